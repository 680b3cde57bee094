/// The JOSE header of an access token: `{"alg":"EdDSA","typ":"JWT","kid":…}`.
struct JWTHeader: Codable, Sendable {
  /// The only algorithm the platform signs or accepts.
  static let algorithm = "EdDSA"

  var alg: String
  var typ: String?
  var kid: String?
  /// Extensions the verifier must understand; the platform uses none, so any is refused.
  var crit: [String]?

  init(keyID: String) {
    alg = Self.algorithm
    typ = "JWT"
    kid = keyID
    crit = nil
  }
}
