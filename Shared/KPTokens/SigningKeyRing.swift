public import Foundation

/// The issuer's keys: one active private key that signs, and the public keys of retired keys
/// that still verify tokens they signed until the last of those expires.
///
/// Rotation makes a new active key and retires the old one at that moment;
/// ``pruneExpired(now:clockSkew:)`` drops retired keys once their tokens are all expired.
/// The ring is a value: an issuer keeps it behind a lock and persists it after each change.
public struct SigningKeyRing: Sendable {
  /// The key that signs new tokens.
  public struct ActiveKey: Sendable {
    /// The id tokens carry as `kid`.
    public let keyID: String
    /// The private key.
    public let privateKey: Ed25519PrivateKey
    /// When the key became active.
    public let activatedAt: Date

    /// Creates the active key.
    ///
    /// - Parameters:
    ///   - keyID: The id tokens carry as `kid`.
    ///   - privateKey: The private key.
    ///   - activatedAt: When the key became active.
    public init(keyID: String, privateKey: Ed25519PrivateKey, activatedAt: Date) {
      self.keyID = keyID
      self.privateKey = privateKey
      self.activatedAt = activatedAt
    }
  }

  /// The key that signs new tokens.
  public private(set) var active: ActiveKey

  /// Retired keys that may still verify tokens, oldest retirement first.
  public private(set) var retired: [SigningKeySet.Key]

  /// Creates a ring from keys already made (for example, loaded from storage).
  ///
  /// - Parameters:
  ///   - active: The key that signs.
  ///   - retired: Retired keys that may still verify. Default: none.
  public init(active: ActiveKey, retired: [SigningKeySet.Key] = []) {
    self.active = active
    self.retired = retired.sorted {
      ($0.retiredAt ?? .distantPast) < ($1.retiredAt ?? .distantPast)
    }
  }

  /// Creates a ring with one freshly generated key.
  ///
  /// - Parameter now: The activation time.
  /// - Returns: The ring.
  /// - Throws: ``TokenError`` with code `keyFailure`.
  public static func generate(now: Date) throws(TokenError) -> SigningKeyRing {
    SigningKeyRing(active: try Self.newKey(now: now))
  }

  /// Makes a new active key and retires the current one as of `now`.
  ///
  /// - Parameter now: The rotation time.
  /// - Throws: ``TokenError`` with code `keyFailure`.
  public mutating func rotate(now: Date) throws(TokenError) {
    let next = try Self.newKey(now: now)
    retired.append(
      SigningKeySet.Key(
        keyID: active.keyID, publicKey: active.privateKey.publicKey, retiredAt: now))
    active = next
  }

  /// Drops retired keys whose last token has expired.
  ///
  /// - Parameters:
  ///   - now: The current time.
  ///   - clockSkew: Slack for clocks that disagree. Default: ``AccessToken/defaultClockSkew``.
  /// - Returns: The ids of the keys dropped.
  @discardableResult
  public mutating func pruneExpired(
    now: Date, clockSkew: TimeInterval = AccessToken.defaultClockSkew
  ) -> [String] {
    let dropped = retired.filter { key in
      (key.verifiesUntil ?? .distantFuture).addingTimeInterval(clockSkew) < now
    }
    retired.removeAll { key in dropped.contains { $0.keyID == key.keyID } }
    return dropped.map(\.keyID)
  }

  /// The public keys a verifier needs: the active key and every retired key kept.
  public var verificationKeys: SigningKeySet {
    SigningKeySet(
      retired + [SigningKeySet.Key(keyID: active.keyID, publicKey: active.privateKey.publicKey)])
  }

  /// Signs claims with the active key.
  ///
  /// - Parameter claims: The claims to sign.
  /// - Returns: The token.
  /// - Throws: ``TokenError`` as ``AccessToken/sign(_:keyID:with:)`` does.
  public func sign(_ claims: AccessTokenClaims) throws(TokenError) -> String {
    try AccessToken.sign(claims, keyID: active.keyID, with: active.privateKey)
  }

  private static func newKey(now: Date) throws(TokenError) -> ActiveKey {
    ActiveKey(
      keyID: "k_" + (try SecureRandom.hex(8)), privateKey: try Ed25519PrivateKey.generate(),
      activatedAt: now)
  }
}
