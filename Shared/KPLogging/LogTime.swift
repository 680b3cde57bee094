#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A wall-clock time for log lines, read without Foundation so that libraries which log do not
/// pull Foundation into every process.
public struct LogTime: Sendable, Equatable {
  /// Whole seconds since 1970-01-01 UTC.
  public var seconds: Int
  /// Nanoseconds within the second.
  public var nanoseconds: Int

  /// Makes a time from seconds and nanoseconds since 1970-01-01 UTC.
  public init(seconds: Int, nanoseconds: Int) {
    self.seconds = seconds
    self.nanoseconds = nanoseconds
  }

  /// The current time.
  public static func now() -> LogTime {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return LogTime(seconds: Int(spec.tv_sec), nanoseconds: Int(spec.tv_nsec))
  }

  /// The process's environment variables.
  static func processEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
      let text = String(cString: entry)
      if let equals = text.firstIndex(of: "=") {
        result[String(text[..<equals])] = String(text[text.index(after: equals)...])
      }
      pointer += 1
    }
    return result
  }
}
