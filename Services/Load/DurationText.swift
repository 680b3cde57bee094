import Foundation

/// Durations written as a number and a unit: `500ms`, `2s`, `1.5s`, `3m`; a bare number is
/// seconds.
enum DurationText {
  /// Parses a duration.
  ///
  /// - Parameters:
  ///   - text: Such as `2s`.
  ///   - setting: The setting's name, for the error message.
  /// - Returns: The duration, zero or more.
  /// - Throws: ``LoadError`` when the text is not a number of ms, s, m or h.
  static func parse(_ text: String, setting: String) throws(LoadError) -> Duration {
    let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
    let units: [(suffix: String, seconds: Double)] = [
      ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600),
    ]
    var number = trimmed
    var scale = 1.0
    for unit in units where trimmed.hasSuffix(unit.suffix) {
      number = String(trimmed.dropLast(unit.suffix.count))
      scale = unit.seconds
      break
    }
    guard let value = Double(number), value.isFinite, value >= 0, value * scale <= 86_400 else {
      throw LoadError(
        .invalidSetting,
        "\(setting) '\(text)' is not a duration such as 500ms, 2s or 1m (at most 24h)")
    }
    return .nanoseconds(Int64((value * scale * 1e9).rounded()))
  }
}
