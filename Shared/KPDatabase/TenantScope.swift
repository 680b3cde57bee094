/// The database names of one tenant: its id, its schema and the role that owns the schema.
///
/// Both names derive from the tenant's opaque id, never from text a user typed, and the id is
/// checked before it is used: `t` followed by 26 characters of lowercase base32 (`a`–`z`,
/// `2`–`7`), as ``TenantScope/newTenantID()`` makes them.
///
/// ```swift
/// let scope = try TenantScope(tenantID: "tq3f…")
/// scope.schema.quoted  // "\"tenant_tq3f…\""
/// ```
public struct TenantScope: Sendable, Hashable {
  /// The tenant's id.
  public let tenantID: String

  /// The schema holding the tenant's tables: `tenant_<id>`.
  public let schema: SQLIdentifier

  /// The role owning the schema, used for every statement run for the tenant: `kp_<id>`.
  public let role: SQLIdentifier

  /// The names of a tenant.
  ///
  /// - Parameter tenantID: An id of the form ``newTenantID()`` makes.
  /// - Throws: ``DatabaseError`` with code `invalidIdentifier` for any other text.
  public init(tenantID: String) throws(DatabaseError) {
    guard Self.isValidTenantID(tenantID) else {
      throw DatabaseError(
        code: .invalidIdentifier,
        message: "'\(tenantID.prefix(80))' is not a tenant id: expected 't' and 26 characters "
          + "a-z or 2-7")
    }
    self.tenantID = tenantID
    schema = try SQLIdentifier("tenant_" + tenantID)
    role = try SQLIdentifier("kp_" + tenantID)
  }

  /// Whether text has the form of a tenant id.
  ///
  /// - Parameter text: The candidate.
  /// - Returns: `true` for `t` followed by 26 characters of lowercase base32.
  public static func isValidTenantID(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    guard bytes.count == 27, bytes[0] == UInt8(ascii: "t") else { return false }
    return bytes.dropFirst().allSatisfy { base32Alphabet.contains($0) }
  }

  /// A new random tenant id: `t` and 26 characters of lowercase base32 (130 random bits).
  ///
  /// - Returns: The id.
  public static func newTenantID() -> String {
    var generator = SystemRandomNumberGenerator()
    var text = "t"
    for _ in 0..<26 {
      let index = Int(generator.next(upperBound: UInt8(base32Alphabet.count)))
      text.unicodeScalars.append(Unicode.Scalar(base32Alphabet[index]))
    }
    return text
  }

  private static let base32Alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
}
