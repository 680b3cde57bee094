/// Keeps secrets out of log lines.
///
/// A field whose key contains one of ``sensitiveKeyFragments`` (compared without case) is always
/// written as ``placeholder``, whatever its value: `["authorization": header]` logs
/// `authorization=[redacted]`. For a secret under an innocent key, pass the value through
/// ``redacted(_:)`` so the intent is visible where the field is built.
public enum LogRedaction {
  /// What a redacted value is written as.
  public static let placeholder = "[redacted]"

  /// Key fragments that mark a field as secret-bearing.
  public static let sensitiveKeyFragments: [String] = [
    "password", "passwd", "passphrase", "secret", "token", "authorization", "cookie",
    "api_key", "apikey", "api-key", "private_key", "privatekey", "credential",
  ]

  /// Whether a field with this key is always redacted.
  ///
  /// - Parameter key: A field key, such as `"refresh_token"`.
  /// - Returns: `true` when the key contains a sensitive fragment.
  public static func isSensitive(key: String) -> Bool {
    // Every line checks every key, so this compares bytes (ASCII folded to lower case) rather
    // than searching strings: a line's fields cost nanoseconds, not microseconds.
    var lowered: [UInt8] = []
    lowered.reserveCapacity(key.utf8.count)
    for byte in key.utf8 {
      lowered.append((0x41...0x5A).contains(byte) ? byte | 0x20 : byte)
    }
    return fragmentBytes.contains { fragment in contains(lowered, fragment) }
  }

  private static let fragmentBytes: [[UInt8]] = sensitiveKeyFragments.map { Array($0.utf8) }

  private static func contains(_ text: [UInt8], _ fragment: [UInt8]) -> Bool {
    guard fragment.count <= text.count else { return false }
    var start = 0
    while start + fragment.count <= text.count {
      var index = 0
      while index < fragment.count && text[start + index] == fragment[index] { index += 1 }
      if index == fragment.count { return true }
      start += 1
    }
    return false
  }

  /// Marks a value as secret: the returned field value is the ``placeholder``, never the value.
  ///
  /// - Parameter value: The secret. It is not read.
  /// - Returns: ``placeholder``.
  public static func redacted<Value>(_ value: Value) -> String {
    placeholder
  }
}
