import KPProtocol

/// What a user may do within a tenant, from most to least powerful.
enum UserRole: String, Sendable, CaseIterable {
  /// Owns the tenant: everything an admin may do; the last owner cannot be removed.
  case owner
  /// Manages users, groups, keys and settings.
  case admin
  /// Manages sources and ingest.
  case editor
  /// Searches and reads documents.
  case member
  /// Reads and searches only.
  case viewer

  /// The name the platform administrator's tokens carry as their role.
  static let platformAdminName = "platform-admin"

  /// The role for a wire value; `nil` for unspecified, unknown or platform admin.
  init?(_ wire: Kp_Auth_V1_Role) {
    switch wire {
    case .owner: self = .owner
    case .admin: self = .admin
    case .editor: self = .editor
    case .member: self = .member
    case .viewer: self = .viewer
    default: return nil
    }
  }

  /// The wire value.
  var wire: Kp_Auth_V1_Role {
    switch self {
    case .owner: .owner
    case .admin: .admin
    case .editor: .editor
    case .member: .member
    case .viewer: .viewer
    }
  }

  /// Whether the role manages the tenant's users, groups, keys and audit log.
  var isTenantAdmin: Bool { self == .owner || self == .admin }

  /// The wire role for a token's role name, including the platform administrator's.
  static func wire(forName name: String) -> Kp_Auth_V1_Role {
    if name == platformAdminName { return .platformAdmin }
    return UserRole(rawValue: name)?.wire ?? .unspecified
  }
}
