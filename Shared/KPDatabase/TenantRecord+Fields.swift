extension TenantRecord {
  /// A record from its fields, for services that learn about tenants from the registry
  /// service rather than from its tables.
  ///
  /// - Parameters:
  ///   - id: The opaque id.
  ///   - slug: The unique short name.
  ///   - displayName: The name people see.
  ///   - planID: The plan's id.
  ///   - state: The tenant's state.
  ///   - cluster: The cluster holding the tenant's schema.
  ///   - schemaVersion: The schema version recorded.
  ///   - createdAtMicros: Creation time, in microseconds since the Unix epoch.
  ///   - quotas: The quotas in effect.
  ///   - suspendedReason: Why the tenant is suspended; empty unless it is. Default empty.
  public init(
    id: String, slug: String, displayName: String, planID: String, state: TenantState,
    cluster: String, schemaVersion: Int, createdAtMicros: Int64, quotas: TenantQuotas,
    suspendedReason: String = ""
  ) {
    self.id = id
    self.slug = slug
    self.displayName = displayName
    self.planID = planID
    self.state = state
    self.cluster = cluster
    self.schemaVersion = schemaVersion
    self.createdAtMicros = createdAtMicros
    self.quotas = quotas
    self.suspendedReason = suspendedReason
  }
}
