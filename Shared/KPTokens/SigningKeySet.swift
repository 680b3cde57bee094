public import Foundation

/// The public keys that verify access tokens, by key id: the active key and the retired keys
/// whose tokens may still be alive.
///
/// A retired key verifies only tokens issued before it retired, and only until the last of them
/// has expired (its retirement plus ``AccessToken/maximumLifetime``); after that it is dropped.
public struct SigningKeySet: Sendable {
  /// One public key and its life.
  public struct Key: Sendable {
    /// The id tokens carry in their `kid` header.
    public let keyID: String

    /// The public key.
    public let publicKey: Ed25519PublicKey

    /// When the key stopped signing, or `nil` while it is the active key.
    public let retiredAt: Date?

    /// Creates an entry.
    ///
    /// - Parameters:
    ///   - keyID: The id tokens carry.
    ///   - publicKey: The public key.
    ///   - retiredAt: When the key stopped signing; `nil` for the active key.
    public init(keyID: String, publicKey: Ed25519PublicKey, retiredAt: Date? = nil) {
      self.keyID = keyID
      self.publicKey = publicKey
      self.retiredAt = retiredAt
    }

    /// When the last token this key signed expires, or `nil` while it is active.
    public var verifiesUntil: Date? {
      retiredAt?.addingTimeInterval(AccessToken.maximumLifetime)
    }
  }

  /// The keys, by id.
  public private(set) var keys: [String: Key]

  /// Creates a set.
  ///
  /// - Parameter keys: The keys; a later key with the same id replaces an earlier one.
  public init(_ keys: [Key] = []) {
    var byID: [String: Key] = [:]
    for key in keys { byID[key.keyID] = key }
    self.keys = byID
  }

  /// The key with this id, if the set has it.
  ///
  /// - Parameter keyID: A token's `kid`.
  public subscript(keyID: String) -> Key? { keys[keyID] }

  /// Adds a key or replaces the key with the same id.
  ///
  /// - Parameter key: The key.
  public mutating func insert(_ key: Key) {
    keys[key.keyID] = key
  }

  /// Drops retired keys whose last token has expired, allowing `clockSkew` of slack.
  ///
  /// - Parameters:
  ///   - now: The current time.
  ///   - clockSkew: How far clocks may disagree. Default: ``AccessToken/defaultClockSkew``.
  /// - Returns: The ids of the keys dropped.
  @discardableResult
  public mutating func pruneExpired(
    now: Date, clockSkew: TimeInterval = AccessToken.defaultClockSkew
  ) -> [String] {
    let expired = keys.values.filter { key in
      guard let until = key.verifiesUntil else { return false }
      return until.addingTimeInterval(clockSkew) < now
    }
    for key in expired { keys[key.keyID] = nil }
    return expired.map(\.keyID).sorted()
  }
}
