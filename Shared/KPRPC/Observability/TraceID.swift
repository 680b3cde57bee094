import Synchronization

/// Trace ids: 32 lowercase hex digits, unique within a process and unpredictable enough to
/// tell requests apart (they are not secrets).
///
/// Made from a random per-process seed and a counter mixed with SplitMix64, so a new id costs
/// no system call.
public enum TraceID {
  private static let seed: (UInt64, UInt64) = {
    var generator = SystemRandomNumberGenerator()
    return (generator.next(), generator.next())
  }()
  private static let counter = Atomic<UInt64>(0)

  /// A new trace id.
  public static func make() -> String {
    let count = counter.add(1, ordering: .relaxed).newValue
    let high = mix(seed.0 &+ count)
    let low = mix(seed.1 ^ (count &* 0x9E37_79B9_7F4A_7C15))
    return String(unsafeUninitializedCapacity: 32) { buffer in
      write(high, to: buffer, at: 0)
      write(low, to: buffer, at: 16)
      return 32
    }
  }

  private static func mix(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Writes 16 lowercase hex digits of `value`, most significant first.
  private static func write(
    _ value: UInt64, to buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int
  ) {
    var remaining = value
    for index in stride(from: start + 15, through: start, by: -1) {
      let digit = UInt8(truncatingIfNeeded: remaining & 0xF)
      buffer[index] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
      remaining >>= 4
    }
  }
}
