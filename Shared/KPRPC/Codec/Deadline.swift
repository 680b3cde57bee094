#if canImport(Glibc)
  import Glibc
#endif

/// A point on the monotonic clock, in nanoseconds.
public struct MonotonicInstant: Sendable, Comparable, Hashable {
  /// Nanoseconds since an arbitrary start.
  public var nanoseconds: UInt64

  /// Makes an instant from nanoseconds on the monotonic clock.
  public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

  /// Now.
  public static func now() -> MonotonicInstant {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return MonotonicInstant(
      nanoseconds: UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec))
  }

  /// This instant moved later by a duration (negative durations move earlier, floored at 0).
  public func advanced(by duration: Duration) -> MonotonicInstant {
    let delta = duration.nanosecondsClamped
    if delta >= 0 {
      let (sum, overflow) = nanoseconds.addingReportingOverflow(UInt64(delta))
      return MonotonicInstant(nanoseconds: overflow ? .max : sum)
    }
    let magnitude = UInt64(-delta)
    return MonotonicInstant(nanoseconds: nanoseconds > magnitude ? nanoseconds - magnitude : 0)
  }

  /// The time from this instant to a later one, or zero.
  public func duration(to later: MonotonicInstant) -> Duration {
    later.nanoseconds > nanoseconds
      ? .nanoseconds(Int64(clamping: later.nanoseconds - nanoseconds)) : .zero
  }

  public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
    lhs.nanoseconds < rhs.nanoseconds
  }
}

extension Duration {
  /// The duration in whole nanoseconds, clamped to the range of `Int64`.
  public var nanosecondsClamped: Int64 {
    let (seconds, attoseconds) = components
    let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    if overflow { return seconds < 0 ? .min : .max }
    return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
  }

  /// The duration in whole microseconds, clamped at zero.
  var nonNegativeMicroseconds: UInt64 {
    let nanos = nanosecondsClamped
    return nanos <= 0 ? 0 : UInt64(nanos / 1_000)
  }
}
