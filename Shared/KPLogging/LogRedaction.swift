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
    let lowered = key.lowercased()
    return sensitiveKeyFragments.contains { lowered.contains($0) }
  }

  /// Marks a value as secret: the returned field value is the ``placeholder``, never the value.
  ///
  /// - Parameter value: The secret. It is not read.
  /// - Returns: ``placeholder``.
  public static func redacted<Value>(_ value: Value) -> String {
    placeholder
  }
}
