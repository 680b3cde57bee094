public import Foundation

/// Checks access tokens offline against the keys auth publishes.
///
/// A token is accepted only when all of these hold, checked in this order:
/// 1. it is three base64url parts with a JSON header naming `alg` `EdDSA` (`none`, `HS256` and
///    every other algorithm are refused, whatever the rest says) and no `crit` extension;
/// 2. its `kid` names a key in the set that may still verify, and the Ed25519 signature over
///    `header.payload` verifies with that key;
/// 3. its claims parse, it was issued before now and, for a retired key, before the key
///    retired, it lives at most ``AccessToken/maximumLifetime`` and it has not expired (each
///    with ``clockSkew`` of slack);
/// 4. its tenant is the one the caller expects, when the caller names one.
///
/// ```swift
/// let verifier = AccessTokenVerifier(keys: publishedKeys)
/// let claims = try verifier.verify(token, expectedTenant: "t_42")
/// ```
public struct AccessTokenVerifier: Sendable {
  /// The keys that may have signed a token still alive.
  public var keys: SigningKeySet

  /// How far clocks may disagree. Default: ``AccessToken/defaultClockSkew``.
  public var clockSkew: TimeInterval

  /// Creates a verifier.
  ///
  /// - Parameters:
  ///   - keys: The published keys.
  ///   - clockSkew: How far clocks may disagree. Default: 30 seconds.
  public init(keys: SigningKeySet, clockSkew: TimeInterval = AccessToken.defaultClockSkew) {
    self.keys = keys
    self.clockSkew = clockSkew
  }

  /// Verifies a token and returns its claims.
  ///
  /// - Parameters:
  ///   - token: The token in compact form, without a `Bearer ` prefix.
  ///   - expectedTenant: The tenant the token must belong to, or `nil` to accept any tenant.
  ///   - now: The current time. Default: the system clock.
  /// - Returns: The verified claims, with ``AccessTokenClaims/keyID`` set.
  /// - Throws: ``TokenError`` whose code says why the token is refused.
  public func verify(
    _ token: String, expectedTenant: String? = nil, now: Date = Date()
  ) throws(TokenError) -> AccessTokenClaims {
    // 1. Shape and header.
    guard token.utf8.count <= AccessToken.maximumLength else {
      throw malformed("the token is longer than \(AccessToken.maximumLength) bytes")
    }
    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 3 else {
      throw malformed("a token has three parts separated by dots, not \(parts.count)")
    }
    guard let headerBytes = Base64URL.decode(parts[0]) else {
      throw malformed("the token's header is not base64url")
    }
    let header: JWTHeader
    do {
      header = try JSONDecoder().decode(JWTHeader.self, from: Data(headerBytes))
    } catch {
      throw malformed("the token's header is not a JSON object with an 'alg' string")
    }
    guard header.alg == JWTHeader.algorithm else {
      throw TokenError(
        code: .unsupportedAlgorithm,
        message: "tokens are signed with EdDSA; algorithm '\(header.alg.prefix(16))' is refused")
    }
    if let typ = header.typ, typ.uppercased() != "JWT" {
      throw malformed("the token's type is not JWT")
    }
    if header.crit != nil {
      throw malformed("the token's header names critical extensions, which are not supported")
    }

    // 2. Key and signature.
    guard let keyID = header.kid, !keyID.isEmpty else {
      throw TokenError(code: .unknownKey, message: "the token names no signing key ('kid')")
    }
    guard let key = keys[keyID] else {
      throw TokenError(code: .unknownKey, message: "the token's signing key is not known")
    }
    if let until = key.verifiesUntil, until.addingTimeInterval(clockSkew) < now {
      throw TokenError(
        code: .unknownKey,
        message: "the token's signing key was retired and its tokens have expired")
    }
    guard !parts[2].isEmpty else {
      throw TokenError(code: .badSignature, message: "the token has no signature")
    }
    guard let signature = Base64URL.decode(parts[2]) else {
      throw malformed("the token's signature is not base64url")
    }
    let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
    guard key.publicKey.isValidSignature(signature, for: signingInput) else {
      throw TokenError(code: .badSignature, message: "the token's signature does not verify")
    }

    // 3. Claims and lifetime.
    guard let payloadBytes = Base64URL.decode(parts[1]) else {
      throw malformed("the token's payload is not base64url")
    }
    let payload: JWTPayload
    do {
      payload = try JSONDecoder().decode(JWTPayload.self, from: Data(payloadBytes))
    } catch {
      throw malformed("the token's claims are missing or have the wrong types")
    }
    guard payload.iss == AccessTokenClaims.issuer else {
      throw malformed("the token was not issued by KnowledgePlane")
    }
    let issuedAt = TimeInterval(payload.iat)
    let expiresAt = TimeInterval(payload.exp)
    let current = now.timeIntervalSince1970
    guard expiresAt > issuedAt, expiresAt - issuedAt <= AccessToken.maximumLifetime else {
      throw TokenError(
        code: .invalidLifetime,
        message: "the token lives longer than \(Int(AccessToken.maximumLifetime)) seconds")
    }
    guard issuedAt <= current + clockSkew else {
      throw TokenError(code: .invalidLifetime, message: "the token was issued in the future")
    }
    if let retiredAt = key.retiredAt, issuedAt > retiredAt.timeIntervalSince1970 + clockSkew {
      throw TokenError(
        code: .badSignature, message: "the token was issued after its signing key retired")
    }
    guard current < expiresAt + clockSkew else {
      throw TokenError(code: .expired, message: "the token has expired; sign in again")
    }

    // 4. Tenant.
    if let expectedTenant, payload.tid != expectedTenant {
      throw TokenError(
        code: .wrongTenant, message: "the token belongs to another tenant than the request")
    }
    return payload.claims(keyID: keyID)
  }

  private func malformed(_ message: String) -> TokenError {
    TokenError(code: .malformed, message: message)
  }
}
