import Foundation

/// RFC 3339 times in UTC, as the API writes and reads them.
enum Timestamps {
  /// The time `micros` microseconds after the Unix epoch, such as `2026-12-03T19:30:00.123456Z`;
  /// nil for 0, which the services use for "never".
  static func format(micros: Int64) -> String? {
    guard micros != 0 else { return nil }
    let seconds = micros.quotientAndRemainder(dividingBy: 1_000_000)
    var whole = seconds.quotient
    var fraction = seconds.remainder
    if fraction < 0 {
      whole -= 1
      fraction += 1_000_000
    }
    var time = time_t(whole)
    var parts = tm()
    gmtime_r(&time, &parts)
    let date = String(
      format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    return fraction == 0 ? date + "Z" : date + String(format: ".%06dZ", Int(fraction))
  }

  /// Reads an RFC 3339 time with or without fractional seconds.
  static func parse(_ text: String) -> Date? {
    let plain = ISO8601DateFormatter()
    plain.formatOptions = [.withInternetDateTime]
    if let date = plain.date(from: text) { return date }
    let fractional = ISO8601DateFormatter()
    fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return fractional.date(from: text)
  }
}
