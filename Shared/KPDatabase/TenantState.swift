/// Where a tenant is in its life, as the registry stores it.
///
/// New states may be added; compare with `==` rather than switching exhaustively.
public struct TenantState: Sendable, Hashable, CustomStringConvertible {
  /// The state's name as stored in the registry, such as `active`.
  public let name: String

  /// A state from its stored name.
  ///
  /// - Parameter name: One of the names below.
  public init(name: String) {
    self.name = name
  }

  /// The schema is being created; the tenant accepts no traffic.
  public static let provisioning = TenantState(name: "provisioning")
  /// The tenant serves traffic.
  public static let active = TenantState(name: "active")
  /// The tenant's traffic is refused; its data is kept.
  public static let suspended = TenantState(name: "suspended")
  /// The tenant's data is being removed.
  public static let deleting = TenantState(name: "deleting")
  /// Only a tombstone is left.
  public static let deleted = TenantState(name: "deleted")

  /// Whether the tenant's schema exists and may be used: active or suspended.
  public var hasData: Bool { self == .active || self == .suspended }

  /// The stored name.
  public var description: String { name }
}
