/// A bearer secret the platform hands out once and stores only as a SHA-256 hash: refresh
/// tokens and API keys.
///
/// Its text is `<kind>_<locator>_<64 hex digits>`, such as `kpk_t_3f2a…_9c1e…`: the kind says
/// what the secret is (`kpk` API key, `kpr` refresh token), the locator says where it lives
/// (the tenant id, which may itself contain `_`), and the last 32 random bytes are the secret.
/// The kind and locator are visible on purpose: they route a presented secret to its tenant
/// and tell keys apart in logs and listings without revealing them.
public struct OpaqueSecret: Sendable, Equatable {
  /// How many random bytes a secret carries: 32.
  public static let randomByteCount = 32

  /// The kind of an API key: `kpk`.
  public static let apiKeyKind = "kpk"

  /// The kind of a refresh token: `kpr`.
  public static let refreshTokenKind = "kpr"

  /// What the secret is, such as `kpk`.
  public let kind: String

  /// Where the secret lives, such as a tenant id.
  public let locator: String

  /// The full text the holder presents.
  public let text: String

  private init(kind: String, locator: String, text: String) {
    self.kind = kind
    self.locator = locator
    self.text = text
  }

  /// Makes a new secret from OpenSSL's secure random generator.
  ///
  /// - Parameters:
  ///   - kind: Lowercase ASCII letters, such as ``apiKeyKind``.
  ///   - locator: ASCII letters, digits, `_` and `-`, such as a tenant id.
  /// - Returns: The secret.
  /// - Throws: ``TokenError`` with code `malformedSecret` for a bad kind or locator, or
  ///   `keyFailure` when the generator fails.
  public static func generate(kind: String, locator: String) throws(TokenError) -> OpaqueSecret {
    guard isValidKind(kind), isValidLocator(locator) else {
      throw TokenError(
        code: .malformedSecret,
        message: "a secret's kind is lowercase letters and its locator ASCII letters, digits, "
          + "'_' and '-'")
    }
    let random = try SecureRandom.hex(randomByteCount)
    return OpaqueSecret(kind: kind, locator: locator, text: "\(kind)_\(locator)_\(random)")
  }

  /// Reads a secret a caller presented.
  ///
  /// - Parameters:
  ///   - text: The presented text.
  ///   - kind: The kind expected, such as ``refreshTokenKind``.
  /// - Throws: ``TokenError`` with code `malformedSecret` when the text does not have the shape
  ///   of a secret of that kind.
  public init(parsing text: String, kind: String) throws(TokenError) {
    let hexLength = 2 * Self.randomByteCount
    let utf8 = Array(text.utf8)
    let prefix = Array((kind + "_").utf8)
    guard utf8.count > prefix.count + 1 + hexLength, utf8.starts(with: prefix),
      utf8[utf8.count - hexLength - 1] == UInt8(ascii: "_"),
      Hex.decode(String(decoding: utf8.suffix(hexLength), as: UTF8.self)) != nil
    else {
      throw TokenError(
        code: .malformedSecret, message: "the text is not a KnowledgePlane \(kind) secret")
    }
    let locator = String(decoding: utf8[prefix.count..<(utf8.count - hexLength - 1)], as: UTF8.self)
    guard Self.isValidLocator(locator) else {
      throw TokenError(
        code: .malformedSecret, message: "the text is not a KnowledgePlane \(kind) secret")
    }
    self.init(kind: kind, locator: locator, text: text)
  }

  /// The SHA-256 hash the platform stores instead of the secret.
  public var hash: [UInt8] { SHA256.digest(text) }

  /// The part safe to show: kind, locator and the first 8 hex digits of the random part.
  public var displayPrefix: String {
    let randomStart = kind.utf8.count + 1 + locator.utf8.count + 1
    return String(decoding: text.utf8.prefix(randomStart + 8), as: UTF8.self)
  }

  /// Whether this secret's hash equals a stored hash, compared in constant time.
  ///
  /// - Parameter storedHash: The hash kept when the secret was made.
  /// - Returns: `true` on a match.
  public func matches(storedHash: [UInt8]) -> Bool {
    ConstantTime.equals(hash, storedHash)
  }

  private static func isValidKind(_ kind: String) -> Bool {
    !kind.isEmpty && kind.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }
  }

  private static func isValidLocator(_ locator: String) -> Bool {
    !locator.isEmpty && locator.utf8.count <= 128
      && locator.utf8.allSatisfy { character in
        switch character {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
          UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
          true
        default: false
        }
      }
  }
}
