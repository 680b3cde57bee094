/// Who a request speaks for, from a credential the gateway verified: the only source of the
/// tenant, user and groups it puts into RPC metadata.
struct VerifiedCaller: Sendable {
  /// What a credential may do.
  enum Scope: String, Sendable, CaseIterable {
    /// Search and read documents.
    case search
    /// Submit and delete documents, and read ingest jobs.
    case ingest
    /// Manage the tenant's users, groups, API keys and audit log.
    case admin
  }

  /// The role name the platform administrator's tokens carry.
  static let platformAdminRole = "platform-admin"

  /// The tenant; empty for the platform administrator.
  var tenantID: String
  /// The user; empty for an API key.
  var userID: String
  /// The API key; empty for a user's token.
  var apiKeyID: String
  /// The user's role, such as `admin`.
  var role: String
  /// The user's group names.
  var groups: [String]
  /// The API key's scopes; for users, derived from the role.
  var scopes: Set<Scope>
  /// The credential exactly as presented, for calls that act with it (`authorization`).
  var credential: String

  /// Whether this is the platform administrator.
  var isPlatformAdmin: Bool { tenantID.isEmpty && role == Self.platformAdminRole }

  /// What a user of a role may do: everyone searches; editors and above ingest; admins and
  /// owners manage.
  static func scopes(forRole role: String) -> Set<Scope> {
    switch role {
    case "owner", "admin": [.search, .ingest, .admin]
    case "editor": [.search, .ingest]
    case "member", "viewer": [.search]
    default: []
    }
  }

  /// Throws 403 unless the caller holds `scope` within a tenant.
  func require(_ scope: Scope) throws(GatewayError) {
    guard !isPlatformAdmin else {
      throw .forbidden(
        "the platform administrator has no tenant; use a credential of the tenant")
    }
    guard scopes.contains(scope) else {
      throw .forbidden("this credential lacks the '\(scope.rawValue)' scope")
    }
  }

  /// Throws 403 unless the caller is the platform administrator.
  func requirePlatformAdmin() throws(GatewayError) {
    guard isPlatformAdmin else {
      throw .forbidden("only the platform administrator may do this")
    }
  }
}
