/// Where a run of migrations over many tenants stands, reported as each tenant finishes.
public struct TenantMigrationProgress: Sendable, Hashable {
  /// Tenants in the run.
  public var totalTenants: Int
  /// Tenants that reached the target version so far.
  public var migratedTenants: Int
  /// Tenants that failed so far.
  public var failedTenants: Int
  /// The tenant this report is about; empty in the final summary.
  public var tenantID: String
  /// That tenant's version now.
  public var schemaVersion: Int
  /// Why that tenant failed; empty when it succeeded.
  public var error: String
  /// Whether this is the run's final summary.
  public var done: Bool

  /// Makes a report.
  public init(
    totalTenants: Int, migratedTenants: Int = 0, failedTenants: Int = 0, tenantID: String = "",
    schemaVersion: Int = 0, error: String = "", done: Bool = false
  ) {
    self.totalTenants = totalTenants
    self.migratedTenants = migratedTenants
    self.failedTenants = failedTenants
    self.tenantID = tenantID
    self.schemaVersion = schemaVersion
    self.error = error
    self.done = done
  }
}
