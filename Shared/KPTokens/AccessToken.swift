public import Foundation

/// Access tokens in JWT compact form (`header.payload.signature`, each part base64url),
/// signed with Ed25519 (`alg` `EdDSA`).
///
/// ```swift
/// let claims = AccessTokenClaims(
///   tenantID: "t_1", userID: "u_1", role: "member", issuedAt: Date())
/// let token = try AccessToken.sign(claims, keyID: "k1", with: privateKey)
/// ```
///
/// Services check tokens with ``AccessTokenVerifier``.
public enum AccessToken {
  /// The longest an access token may live: 15 minutes.
  public static let maximumLifetime: TimeInterval = 15 * 60

  /// How far the issuer's and a verifier's clocks may disagree by default: 30 seconds.
  public static let defaultClockSkew: TimeInterval = 30

  /// The longest token text a verifier reads: 8 KiB.
  public static let maximumLength = 8 * 1024

  /// Signs claims into a token.
  ///
  /// - Parameters:
  ///   - claims: The claims; their lifetime must be positive and at most ``maximumLifetime``.
  ///   - keyID: The id of `key`, written as the header's `kid`.
  ///   - key: The signing key.
  /// - Returns: The token in compact form.
  /// - Throws: ``TokenError`` with code `invalidLifetime` for a lifetime out of bounds, or
  ///   `keyFailure` when signing fails.
  public static func sign(
    _ claims: AccessTokenClaims, keyID: String, with key: Ed25519PrivateKey
  ) throws(TokenError) -> String {
    let lifetime = claims.expiresAt.timeIntervalSince(claims.issuedAt)
    guard lifetime > 0, lifetime <= maximumLifetime else {
      throw TokenError(
        code: .invalidLifetime,
        message: "an access token lives more than 0 and at most \(Int(maximumLifetime)) "
          + "seconds, not \(Int(lifetime))")
    }
    guard !keyID.isEmpty else {
      throw TokenError(code: .keyFailure, message: "a signing key needs a key id")
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let header: Data
    let payload: Data
    do {
      header = try encoder.encode(JWTHeader(keyID: keyID))
      payload = try encoder.encode(JWTPayload(claims))
    } catch {
      throw TokenError(code: .malformed, message: "the claims could not be encoded as JSON")
    }
    let signingInput = Base64URL.encode(header) + "." + Base64URL.encode(payload)
    let signature = try key.signature(for: Array(signingInput.utf8))
    return signingInput + "." + Base64URL.encode(signature)
  }
}
