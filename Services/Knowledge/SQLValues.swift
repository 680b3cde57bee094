import Foundation

/// Conversions between Swift values and PostgreSQL's text format for bound parameters.
enum SQLValues {
  /// A `text[]` parameter: an array literal with every element quoted.
  static func textArray(_ values: [String]) -> String {
    let quoted = values.map { value in
      let escaped = value.replacingOccurrences(of: "\\", with: "\\\\")
        .replacingOccurrences(of: "\"", with: "\\\"")
      return "\"" + escaped + "\""
    }
    return "{" + quoted.joined(separator: ",") + "}"
  }

  /// A JSON text for a `jsonb` parameter.
  static func json(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    guard let data = try? encoder.encode(value) else { return "null" }
    return String(decoding: data, as: UTF8.self)
  }

  /// Decodes a JSON column, such as `to_json(acl_users)`.
  static func decode<Value: Decodable>(_ type: Value.Type, _ text: String?) -> Value? {
    guard let text else { return nil }
    return try? JSONDecoder().decode(type, from: Data(text.utf8))
  }

  /// The SQL reading a `timestamptz` column as microseconds since the Unix epoch (0 for NULL).
  static func microsSQL(_ column: String) -> String {
    "COALESCE((extract(epoch FROM \(column)) * 1000000)::bigint, 0)"
  }

  /// The SQL turning a parameter of microseconds since the Unix epoch into a `timestamptz`;
  /// a NULL parameter stays NULL.
  static func timestampSQL(_ parameter: Int) -> String {
    "('epoch'::timestamptz + $\(parameter)::bigint * interval '1 microsecond')"
  }

  /// The SQL giving the tenant's text-search configuration (the `text_search_config` setting,
  /// default `english`).
  static let searchConfigSQL =
    "COALESCE((SELECT value FROM settings WHERE key = 'text_search_config'), 'english')"
    + "::regconfig"
}
