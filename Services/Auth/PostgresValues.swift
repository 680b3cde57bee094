import Foundation
import KPTokens

/// Conversions between Swift values and PostgreSQL's text format for bound parameters.
enum PostgresValues {
  /// A `bytea` parameter in hex input format: `\x` followed by hex digits.
  static func bytea(_ bytes: [UInt8]) -> String {
    "\\x" + Hex.encode(bytes)
  }

  /// Reads a `bytea` column in hex output format.
  static func bytes(_ text: String?) -> [UInt8]? {
    guard let text, text.hasPrefix("\\x") else { return nil }
    return Hex.decode(text.dropFirst(2))
  }

  /// A `text[]` parameter: an array literal with every element quoted.
  static func textArray(_ values: [String]) -> String {
    let quoted = values.map { value in
      "\""
        + value.replacingOccurrences(of: "\\", with: "\\\\")
        .replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
    return "{" + quoted.joined(separator: ",") + "}"
  }

  /// A `timestamptz` parameter from a time, as seconds since the Unix epoch; use it through
  /// ``timestampSQL(_:)``.
  static func timestamp(_ date: Date) -> String {
    String(format: "%.6f", date.timeIntervalSince1970)
  }

  /// The SQL that turns a ``timestamp(_:)`` parameter into a `timestamptz`.
  static func timestampSQL(_ parameter: Int) -> String {
    "to_timestamp($\(parameter)::double precision)"
  }

  /// The SQL that reads a `timestamptz` column as microseconds since the Unix epoch.
  static func microsSQL(_ column: String) -> String {
    "(extract(epoch FROM \(column)) * 1000000)::bigint"
  }
}
