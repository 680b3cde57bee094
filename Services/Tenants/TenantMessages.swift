import KPDatabase
import KPProtocol

extension Kp_Tenants_V1_Tenant {
  /// The wire form of a registry record.
  init(_ record: TenantRecord) {
    self.init()
    id = record.id
    slug = record.slug
    displayName = record.displayName
    planId = record.planID
    state = Kp_Tenants_V1_TenantState(record.state)
    var placement = Kp_Tenants_V1_Placement()
    placement.cluster = record.cluster
    placement.schema = (try? record.scope().schema.name) ?? ""
    self.placement = placement
    schemaVersion = UInt32(clamping: record.schemaVersion)
    createdAtMicros = record.createdAtMicros
    suspendedReason = record.suspendedReason
  }
}

extension Kp_Tenants_V1_TenantState {
  /// The wire state of a registry state; deleted tenants are never sent.
  init(_ state: TenantState) {
    switch state {
    case .provisioning: self = .provisioning
    case .active: self = .active
    case .suspended: self = .suspended
    case .deleting: self = .deleting
    default: self = .unspecified
    }
  }

  /// The registry state a wire state filters on; nil for unspecified or unknown values.
  var registryState: TenantState? {
    switch self {
    case .provisioning: .provisioning
    case .active: .active
    case .suspended: .suspended
    case .deleting: .deleting
    default: nil
    }
  }
}

extension Kp_Tenants_V1_Quotas {
  /// The wire form of quotas.
  init(_ quotas: TenantQuotas) {
    self.init()
    requestsPerSecond = UInt32(clamping: quotas.requestsPerSecond)
    burst = UInt32(clamping: quotas.burst)
    maxDocuments = UInt64(clamping: quotas.maximumDocuments)
    maxStoredBytes = UInt64(clamping: quotas.maximumStoredBytes)
    maxDocumentBytes = UInt64(clamping: quotas.maximumDocumentBytes)
  }
}

extension Kp_Tenants_V1_MigrateProgress {
  /// The wire form of a migration report.
  init(_ report: TenantMigrationProgress) {
    self.init()
    totalTenants = UInt32(clamping: report.totalTenants)
    migratedTenants = UInt32(clamping: report.migratedTenants)
    failedTenants = UInt32(clamping: report.failedTenants)
    tenantId = report.tenantID
    schemaVersion = UInt32(clamping: report.schemaVersion)
    error = report.error
    done = report.done
  }
}
