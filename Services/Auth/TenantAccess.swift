import KPDatabase
import KPProtocol
import KPRPC

/// Finds tenants by id or slug and says whether they may be used, with answers cached for a
/// bounded time so a suspension is seen within seconds.
///
/// In a deployment the answers come from the tenant registry service over RPC
/// (``registryService(_:maximumStaleness:)``); a kp-auth that shares the registry's database
/// may read its tables instead (``registryTables(_:maximumStaleness:)``).
struct TenantAccess: Sendable {
  /// Records by tenant id.
  let byID: TenantDirectory
  /// Records by slug (the directory's key is the slug).
  let bySlug: TenantDirectory

  /// Asks the tenant registry service.
  static func registryService(
    _ channel: RPCChannel, maximumStaleness: Duration = .seconds(5)
  ) -> TenantAccess {
    return TenantAccess(
      byID: TenantDirectory(maximumStaleness: maximumStaleness) {
        try await fetch(.id($0), channel)
      },
      bySlug: TenantDirectory(maximumStaleness: maximumStaleness) {
        try await fetch(.slug($0), channel)
      })
  }

  /// Reads the registry's tables through a pool on its cluster.
  static func registryTables(
    _ pool: ConnectionPool, maximumStaleness: Duration = .seconds(5)
  ) -> TenantAccess {
    TenantAccess(
      byID: TenantDirectory.registry(pool, maximumStaleness: maximumStaleness),
      bySlug: TenantDirectory(maximumStaleness: maximumStaleness) { slug in
        try await pool.withConnection { connection in
          let rows = try connection.query(
            TenantRecord.selectSQL + " WHERE t.slug = $1 AND t.state <> 'deleted'", [slug])
          return rows.first.map(TenantRecord.init(row:))
        }
      })
  }

  /// The tenant with this id when it may be used.
  ///
  /// - Throws: ``AuthError`` `notFound` for an unknown tenant, `unauthenticated` saying
  ///   suspended for a suspended one, `unavailable` when the registry cannot be asked.
  func usable(id: String) async throws(AuthError) -> TenantRecord {
    let record: TenantRecord?
    do {
      record = try await byID.record(for: id)
    } catch {
      throw AuthError(.unavailable, "the tenant registry cannot be reached; try again")
    }
    return try Self.check(record)
  }

  /// The tenant with this slug when it may be used, or `nil` when there is none.
  ///
  /// - Throws: ``AuthError`` `unauthenticated` for a suspended tenant, `unavailable` when the
  ///   registry cannot be asked.
  func usable(slug: String) async throws(AuthError) -> TenantRecord? {
    let record: TenantRecord?
    do {
      record = try await bySlug.record(for: slug)
    } catch {
      throw AuthError(.unavailable, "the tenant registry cannot be reached; try again")
    }
    guard let record, record.state != .deleted, record.state != .deleting else { return nil }
    return try Self.check(record)
  }

  /// Forgets what is cached about a tenant.
  func invalidate(id: String, slug: String? = nil) {
    byID.invalidate(id)
    if let slug { bySlug.invalidate(slug) }
  }

  private static func check(_ record: TenantRecord?) throws(AuthError) -> TenantRecord {
    guard let record, record.state.hasData else {
      throw AuthError(.notFound, "no such tenant")
    }
    guard record.state == .active else {
      throw AuthError(
        .unauthenticated,
        "the tenant is suspended; its users and keys are refused until it is "
          + "resumed")
    }
    return record
  }

  /// Asks the registry for one tenant; `nil` when it has none.
  private static func fetch(
    _ key: Kp_Tenants_V1_GetTenantRequest.OneOf_Key, _ channel: RPCChannel
  ) async throws -> TenantRecord? {
    var request = Kp_Tenants_V1_GetTenantRequest()
    request.key = key
    let response: Kp_Tenants_V1_GetTenantResponse
    do {
      response = try await channel.unary(Kp_Tenants_V1_Tenants.getTenant, request)
    } catch {
      if error.code == .notFound || error.code == .invalidArgument { return nil }
      throw error
    }
    return record(response)
  }

  private static func record(_ response: Kp_Tenants_V1_GetTenantResponse) -> TenantRecord? {
    guard let tenant = response.tenant, !tenant.id.isEmpty else { return nil }
    let state: TenantState =
      switch tenant.state {
      case .active: .active
      case .suspended: .suspended
      case .provisioning: .provisioning
      case .deleting: .deleting
      default: .deleted
      }
    let quotas = response.effectiveQuotas ?? Kp_Tenants_V1_Quotas()
    return TenantRecord(
      id: tenant.id, slug: tenant.slug, displayName: tenant.displayName, planID: tenant.planId,
      state: state, cluster: tenant.placement?.cluster ?? "",
      schemaVersion: Int(tenant.schemaVersion),
      createdAtMicros: tenant.createdAtMicros,
      quotas: TenantQuotas(
        requestsPerSecond: Int(quotas.requestsPerSecond), burst: Int(quotas.burst),
        maximumDocuments: Int(quotas.maxDocuments), maximumStoredBytes: Int(quotas.maxStoredBytes),
        maximumDocumentBytes: Int(quotas.maxDocumentBytes)))
  }
}
