public import Foundation

/// What a signed access token says about its bearer.
///
/// On the wire the claims are a JWT payload: `iss`, `sub` (the user id), `tid` (the tenant id),
/// `role`, `groups`, `scope`, `iat`, `exp` (whole seconds since the Unix epoch) and `jti`; the
/// signing key's id travels in the header as `kid`.
public struct AccessTokenClaims: Sendable, Equatable {
  /// The issuer every KnowledgePlane token names: `knowledgeplane`.
  public static let issuer = "knowledgeplane"

  /// The tenant the token acts for; empty for a platform administrator.
  public var tenantID: String

  /// The user the token speaks for.
  public var userID: String

  /// The user's role within the tenant, such as `owner`, `admin`, `member` or `viewer`
  /// (`platform-admin` for the platform's administrator).
  public var role: String

  /// The names of the groups the user belongs to.
  public var groups: [String]

  /// What the token may do, such as `search` or `ingest`; empty means what the role allows.
  public var scopes: [String]

  /// When the token was issued, in whole seconds.
  public var issuedAt: Date

  /// When the token stops being accepted, in whole seconds.
  public var expiresAt: Date

  /// A unique id for this token.
  public var tokenID: String

  /// The id of the key that signed the token; set by signing and by verification.
  public var keyID: String

  /// Creates claims.
  ///
  /// - Parameters:
  ///   - tenantID: The tenant the token acts for.
  ///   - userID: The user the token speaks for.
  ///   - role: The user's role.
  ///   - groups: The user's groups. Default: none.
  ///   - scopes: What the token may do. Default: what the role allows.
  ///   - issuedAt: When the token is issued; rounded down to a whole second.
  ///   - lifetime: How long the token lives, at most ``AccessToken/maximumLifetime``.
  ///   - tokenID: A unique id. Default: 16 random bytes in hexadecimal.
  ///   - keyID: The signing key's id. Default: empty until signed.
  public init(
    tenantID: String,
    userID: String,
    role: String,
    groups: [String] = [],
    scopes: [String] = [],
    issuedAt: Date,
    lifetime: TimeInterval = AccessToken.maximumLifetime,
    tokenID: String? = nil,
    keyID: String = ""
  ) {
    let issued = Date(timeIntervalSince1970: issuedAt.timeIntervalSince1970.rounded(.down))
    self.tenantID = tenantID
    self.userID = userID
    self.role = role
    self.groups = groups
    self.scopes = scopes
    self.issuedAt = issued
    self.expiresAt = issued.addingTimeInterval(lifetime.rounded(.down))
    self.tokenID = tokenID ?? ((try? SecureRandom.hex(16)) ?? UUID().uuidString)
    self.keyID = keyID
  }
}
