import Foundation
import KPTokens
import Synchronization

/// Access tokens already verified, remembered by their SHA-256 until they expire.
///
/// Verifying a token costs two JSON decodes and an Ed25519 signature check; a client sends
/// the same token on every request for up to 15 minutes. Only the digest is kept, never the
/// token. The memory is bounded: past ``limit`` entries it starts afresh.
final class VerifiedTokenCache: Sendable {
  /// The most tokens remembered at once.
  let limit: Int
  private let entries = Mutex([[UInt8]: AccessTokenClaims]())

  /// Makes an empty cache holding at most `limit` tokens.
  init(limit: Int = 10_000) {
    self.limit = max(1, limit)
  }

  /// How many tokens are remembered.
  var count: Int { entries.withLock { $0.count } }

  /// The claims of `token` if it was verified and has not expired by `now`.
  func claims(for token: String, now: Date = Date()) -> AccessTokenClaims? {
    let digest = SHA256.digest(token)
    return entries.withLock { entries in
      guard let claims = entries[digest] else { return nil }
      guard claims.expiresAt > now else {
        entries[digest] = nil
        return nil
      }
      return claims
    }
  }

  /// Remembers that `token` verified with `claims`.
  func remember(_ token: String, _ claims: AccessTokenClaims) {
    let digest = SHA256.digest(token)
    entries.withLock { entries in
      if entries.count >= limit { entries.removeAll() }
      entries[digest] = claims
    }
  }

  /// Forgets every token, as when the signing keys change.
  func removeAll() {
    entries.withLock { $0.removeAll() }
  }
}
