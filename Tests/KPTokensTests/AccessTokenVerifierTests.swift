import COpenSSL
import Foundation
import KPTokens
import Testing

/// Signing and verifying access tokens, and every way a forged or stale token is refused.
@Suite("Access token verification")
struct AccessTokenVerifierTests {
  let ring: SigningKeyRing
  let now = Date(timeIntervalSince1970: 1_800_000_000)

  init() throws {
    ring = try SigningKeyRing.generate(now: Date(timeIntervalSince1970: 1_799_000_000))
  }

  private func claims(
    tenant: String = "t_a", issuedAt: Date? = nil, lifetime: TimeInterval = 900
  ) -> AccessTokenClaims {
    AccessTokenClaims(
      tenantID: tenant, userID: "u_1", role: "admin", groups: ["eng", "ops"],
      scopes: ["search"], issuedAt: issuedAt ?? now, lifetime: lifetime)
  }

  private func expectRefused(
    _ token: String, _ code: TokenError.Code, verifier: AccessTokenVerifier? = nil,
    expectedTenant: String? = nil, at time: Date? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let verifier = verifier ?? AccessTokenVerifier(keys: ring.verificationKeys)
    do {
      let claims = try verifier.verify(token, expectedTenant: expectedTenant, now: time ?? now)
      Issue.record("token accepted: \(claims)", sourceLocation: sourceLocation)
    } catch {
      #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    }
  }

  /// Builds a compact token from a header and payload object and a signature part.
  private func forge(header: [String: Any], payload: [String: Any], signature: String) throws
    -> String
  {
    let headerJSON = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    let payloadJSON = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
    return Base64URL.encode(headerJSON) + "." + Base64URL.encode(payloadJSON) + "." + signature
  }

  private func validPayload() -> [String: Any] {
    let issued = Int(now.timeIntervalSince1970)
    return [
      "iss": "knowledgeplane", "sub": "u_1", "tid": "t_a", "role": "owner", "groups": [String](),
      "scope": [String](), "iat": issued, "exp": issued + 600, "jti": "j1",
    ]
  }

  @Test("a signed token verifies and carries every claim")
  func roundTrip() throws {
    let token = try ring.sign(claims())
    let verified = try AccessTokenVerifier(keys: ring.verificationKeys).verify(
      token, expectedTenant: "t_a", now: now.addingTimeInterval(60))
    #expect(verified.tenantID == "t_a")
    #expect(verified.userID == "u_1")
    #expect(verified.role == "admin")
    #expect(verified.groups == ["eng", "ops"])
    #expect(verified.scopes == ["search"])
    #expect(verified.keyID == ring.active.keyID)
    #expect(verified.expiresAt == now.addingTimeInterval(900))

    let header = try #require(Base64URL.decode(token.split(separator: ".")[0]))
    let object = try JSONSerialization.jsonObject(with: Data(header)) as? [String: String]
    #expect(object == ["alg": "EdDSA", "typ": "JWT", "kid": ring.active.keyID])
  }

  @Test("alg none, with or without a signature, is refused")
  func algNone() throws {
    let header: [String: Any] = ["alg": "none", "typ": "JWT", "kid": ring.active.keyID]
    expectRefused(
      try forge(header: header, payload: validPayload(), signature: ""), .unsupportedAlgorithm)
    expectRefused(
      try forge(header: header, payload: validPayload(), signature: "AAAA"),
      .unsupportedAlgorithm)
    let noKid: [String: Any] = ["alg": "none"]
    expectRefused(
      try forge(header: noKid, payload: validPayload(), signature: ""), .unsupportedAlgorithm)
  }

  @Test("an HS256 token whose HMAC key is the published public key is refused")
  func hs256WithPublicKey() throws {
    let publicKey = ring.active.privateKey.publicKey
    let pem =
      "-----BEGIN PUBLIC KEY-----\n"
      + Data(publicKey.derRepresentation).base64EncodedString() + "\n-----END PUBLIC KEY-----\n"
    let secrets = [publicKey.derRepresentation, publicKey.rawRepresentation, Array(pem.utf8)]
    for secret in secrets {
      let header: [String: Any] = ["alg": "HS256", "typ": "JWT", "kid": ring.active.keyID]
      let unsigned = try forge(header: header, payload: validPayload(), signature: "")
      let input = Array(unsigned.dropLast().utf8)
      var mac = [UInt8](repeating: 0, count: 32)
      var length: UInt32 = 0
      _ = HMAC(EVP_sha256(), secret, Int32(secret.count), input, input.count, &mac, &length)
      expectRefused(unsigned + Base64URL.encode(mac), .unsupportedAlgorithm)
    }
    // The same token claiming EdDSA fails on its signature instead.
    let header: [String: Any] = ["alg": "EdDSA", "typ": "JWT", "kid": ring.active.keyID]
    let unsigned = try forge(header: header, payload: validPayload(), signature: "")
    let input = Array(unsigned.dropLast().utf8)
    let secret = publicKey.derRepresentation
    var mac = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    _ = HMAC(EVP_sha256(), secret, Int32(secret.count), input, input.count, &mac, &length)
    expectRefused(unsigned + Base64URL.encode(mac), .badSignature)
  }

  @Test("a missing or altered signature is refused")
  func badSignatures() throws {
    let token = try ring.sign(claims())
    let parts = token.split(separator: ".").map(String.init)
    expectRefused(parts[0] + "." + parts[1] + ".", .badSignature)
    expectRefused(parts[0] + "." + parts[1], .malformed)

    // Another tenant's claims under the original signature.
    var payload = validPayload()
    payload["tid"] = "t_b"
    let json = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
    expectRefused(parts[0] + "." + Base64URL.encode(json) + "." + parts[2], .badSignature)

    // One flipped bit in the signature.
    var signature = try #require(Base64URL.decode(parts[2]))
    signature[10] ^= 1
    expectRefused(parts[0] + "." + parts[1] + "." + Base64URL.encode(signature), .badSignature)

    // A signature by a key of the right id that is not the ring's.
    let stranger = try Ed25519PrivateKey.generate()
    let forged = try AccessToken.sign(claims(), keyID: ring.active.keyID, with: stranger)
    expectRefused(forged, .badSignature)
  }

  @Test("an unknown key id is refused")
  func unknownKey() throws {
    let other = try SigningKeyRing.generate(now: now)
    expectRefused(try other.sign(claims()), .unknownKey)
    let header: [String: Any] = ["alg": "EdDSA", "typ": "JWT"]
    expectRefused(try forge(header: header, payload: validPayload(), signature: "AA"), .unknownKey)
  }

  @Test("expiry is enforced with a small clock skew")
  func expiry() throws {
    let token = try ring.sign(claims(lifetime: 300))
    let verifier = AccessTokenVerifier(keys: ring.verificationKeys, clockSkew: 30)
    _ = try verifier.verify(token, now: now.addingTimeInterval(299))
    _ = try verifier.verify(token, now: now.addingTimeInterval(320))
    expectRefused(token, .expired, verifier: verifier, at: now.addingTimeInterval(330))
    expectRefused(token, .expired, verifier: verifier, at: now.addingTimeInterval(86_400))
    // Issued in the future beyond the skew.
    expectRefused(token, .invalidLifetime, verifier: verifier, at: now.addingTimeInterval(-60))
  }

  @Test("a token may not live longer than 15 minutes")
  func lifetimeBound() throws {
    #expect(throws: TokenError(code: .invalidLifetime, message: "")) {
      try ring.sign(claims(lifetime: 901))
    }
    var payload = validPayload()
    payload["exp"] = Int(now.timeIntervalSince1970) + 3600
    let header: [String: Any] = ["alg": "EdDSA", "typ": "JWT", "kid": ring.active.keyID]
    let unsigned = try forge(header: header, payload: payload, signature: "")
    let signature = try ring.active.privateKey.signature(for: Array(unsigned.dropLast().utf8))
    expectRefused(unsigned + Base64URL.encode(signature), .invalidLifetime)
  }

  @Test("a token for another tenant is refused when the verifier expects one")
  func wrongTenant() throws {
    let token = try ring.sign(claims(tenant: "t_a"))
    expectRefused(token, .wrongTenant, expectedTenant: "t_b")
    _ = try AccessTokenVerifier(keys: ring.verificationKeys).verify(
      token, expectedTenant: "t_a", now: now)
  }

  @Test("a retired key verifies its tokens until they expire, then is dropped")
  func rotation() throws {
    var ring = ring
    let before = try ring.sign(claims())
    let oldKey = ring.active.keyID
    try ring.rotate(now: now.addingTimeInterval(60))
    let after = try ring.sign(claims(issuedAt: now.addingTimeInterval(61)))
    #expect(ring.active.keyID != oldKey)

    let verifier = AccessTokenVerifier(keys: ring.verificationKeys)
    _ = try verifier.verify(before, now: now.addingTimeInterval(120))
    _ = try verifier.verify(after, now: now.addingTimeInterval(120))

    // The retired key refuses tokens claiming to be issued after it retired.
    let retiredKey = try #require(ring.verificationKeys[oldKey])
    let late = try AccessToken.sign(
      claims(issuedAt: now.addingTimeInterval(600)), keyID: oldKey,
      with: self.ring.active.privateKey)
    #expect(retiredKey.retiredAt == now.addingTimeInterval(60))
    expectRefused(late, .badSignature, verifier: verifier, at: now.addingTimeInterval(700))

    // Retired and expired: the verifier still listing it refuses, and pruning drops it.
    let muchLater = now.addingTimeInterval(60 + 900 + 31)
    expectRefused(before, .unknownKey, verifier: verifier, at: muchLater)
    #expect(ring.pruneExpired(now: muchLater) == [oldKey])
    #expect(ring.verificationKeys[oldKey] == nil)
    expectRefused(
      before, .unknownKey, verifier: AccessTokenVerifier(keys: ring.verificationKeys),
      at: now.addingTimeInterval(120))

    var published = verifier.keys
    #expect(published.pruneExpired(now: muchLater) == [oldKey])
  }

  @Test(
    "malformed tokens are refused as malformed",
    arguments: [
      "", "a", "a.b", "a.b.c.d", "!!!.e30.AA", "e30=.e30.AA", "eyJhbGciOiJFZERTQSJ9.e30",
      "bm90IGpzb24.e30.AA", "W10.e30.AA", "eyJhbGciOjF9.e30.AA",
    ])
  func malformed(token: String) {
    expectRefused(token, .malformed)
  }

  @Test("claims of the wrong type or missing are refused after the signature")
  func malformedClaims() throws {
    var payload = validPayload()
    payload["exp"] = "tomorrow"
    let header: [String: Any] = ["alg": "EdDSA", "typ": "JWT", "kid": ring.active.keyID]
    let unsigned = try forge(header: header, payload: payload, signature: "")
    let signature = try ring.active.privateKey.signature(for: Array(unsigned.dropLast().utf8))
    expectRefused(unsigned + Base64URL.encode(signature), .malformed)

    let critical: [String: Any] = [
      "alg": "EdDSA", "kid": ring.active.keyID, "crit": ["exp"],
    ]
    expectRefused(try forge(header: critical, payload: validPayload(), signature: "AA"), .malformed)
  }
}
