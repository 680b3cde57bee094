/// A name that may be spliced into SQL text as an identifier, such as a schema or a role.
///
/// Values always travel as bound parameters, but identifiers cannot: PostgreSQL takes them only
/// in the statement's text. An `SQLIdentifier` is therefore checked when it is made (lowercase
/// ASCII letters, digits and underscores, starting with a letter or underscore, at most 63
/// bytes, the server's limit) and is always written double-quoted, so no text can escape it.
///
/// ```swift
/// let schema = try SQLIdentifier("tenant_tabc")
/// try connection.execute("CREATE SCHEMA \(schema.quoted)")
/// ```
public struct SQLIdentifier: Sendable, Hashable, CustomStringConvertible {
  /// The identifier as PostgreSQL stores it, unquoted.
  public let name: String

  /// Checks a name and makes an identifier of it.
  ///
  /// - Parameter name: Lowercase ASCII letters, digits and `_`, not starting with a digit,
  ///   1 to 63 characters.
  /// - Throws: ``DatabaseError`` with code `invalidIdentifier` naming the rule broken.
  public init(_ name: String) throws(DatabaseError) {
    guard Self.isValid(name) else {
      throw DatabaseError(
        code: .invalidIdentifier,
        message: "'\(name.prefix(80))' is not a valid SQL identifier: use 1 to 63 lowercase "
          + "ASCII letters, digits and underscores, not starting with a digit")
    }
    self.name = name
  }

  /// The identifier double-quoted for SQL text, such as `"tenant_tabc"`.
  public var quoted: String { "\"\(name)\"" }

  /// The unquoted name.
  public var description: String { name }

  /// Whether a name passes the rules ``init(_:)`` checks.
  ///
  /// - Parameter name: The candidate.
  /// - Returns: `true` when it may be used as an identifier.
  public static func isValid(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    guard let first = bytes.first, bytes.count <= 63 else { return false }
    guard !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
    return bytes.allSatisfy { byte in
      (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
    }
  }
}
