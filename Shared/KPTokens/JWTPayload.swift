import Foundation

/// The JSON payload of an access token, in JWT's claim names.
struct JWTPayload: Codable, Sendable {
  var iss: String
  var sub: String
  var tid: String
  var role: String
  var groups: [String]
  var scope: [String]
  var iat: Int64
  var exp: Int64
  var jti: String

  init(_ claims: AccessTokenClaims) {
    iss = AccessTokenClaims.issuer
    sub = claims.userID
    tid = claims.tenantID
    role = claims.role
    groups = claims.groups
    scope = claims.scopes
    iat = Int64(claims.issuedAt.timeIntervalSince1970.rounded(.down))
    exp = Int64(claims.expiresAt.timeIntervalSince1970.rounded(.down))
    jti = claims.tokenID
  }

  func claims(keyID: String) -> AccessTokenClaims {
    var claims = AccessTokenClaims(
      tenantID: tid, userID: sub, role: role, groups: groups, scopes: scope,
      issuedAt: Date(timeIntervalSince1970: TimeInterval(iat)), lifetime: 0, tokenID: jti,
      keyID: keyID)
    claims.expiresAt = Date(timeIntervalSince1970: TimeInterval(exp))
    return claims
  }
}
