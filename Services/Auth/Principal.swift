/// Who a verified credential speaks for, as kp-auth sees a caller.
struct Principal: Sendable, Equatable {
  /// The tenant; empty for the platform administrator.
  var tenantID: String
  /// The user, or empty for an API key.
  var userID: String
  /// The API key, or empty for a user.
  var apiKeyID: String
  /// The role name: a ``UserRole`` raw value, or ``UserRole/platformAdminName``.
  var role: String
  /// The user's groups.
  var groups: [String]
  /// What the credential may do; for a user token, empty.
  var scopes: [String]
  /// When the credential stops working, in microseconds since the Unix epoch; 0 for never.
  var expiresAtMicros: Int64

  /// Whether this is the platform administrator, who may act on any tenant.
  var isPlatformAdmin: Bool { role == UserRole.platformAdminName && tenantID.isEmpty }

  /// Whether the caller may manage the tenant's users, groups, keys and audit log.
  var isTenantAdmin: Bool {
    if isPlatformAdmin { return true }
    if !apiKeyID.isEmpty { return scopes.contains(ApiKeyScope.admin.rawValue) }
    return UserRole(rawValue: role)?.isTenantAdmin == true
  }

  /// The actor recorded in the audit log.
  var actor: String {
    if isPlatformAdmin { return UserRole.platformAdminName }
    return apiKeyID.isEmpty ? userID : "key:" + apiKeyID
  }
}
