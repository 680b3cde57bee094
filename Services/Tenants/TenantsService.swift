import KPDatabase
import KPLogging
import KPProtocol
import KPRPC
import KPServiceKit

/// `kp.tenants.v1.Tenants` over the RPC runtime: maps messages onto ``TenantRegistry`` and its
/// errors onto status codes, and restricts each method to the services that need it.
///
/// A call that carries a tenant in its metadata (`kp-tenant`, set by the gateway from a
/// verified token) acts for that tenant only: any other tenant's id answers NOT_FOUND, exactly
/// as an id that does not exist, so existence does not leak.
struct TenantsService: RPCService {
  let registry: TenantRegistry
  let logger: Logger

  /// Who manages tenants: the gateway (for the platform administrator) and the `kp` tool.
  static let administrators: CallerPolicy = .only(
    Set(["gateway", "cli"].map(MeshService.identity(of:))))

  /// Who reads tenants, plans and quotas: every service that serves tenants' traffic.
  static let readers: CallerPolicy = .only(
    Set(["gateway", "auth", "knowledge", "ingest", "cli"].map(MeshService.identity(of:))))

  /// Tenants per page when the request names no size, and the most allowed.
  static let defaultPageSize = 50
  static let maximumPageSize = 500

  func register(into table: inout MethodTable) {
    let registry = registry
    let logger = logger

    table.unary(Kp_Tenants_V1_Tenants.createTenant, callers: Self.administrators) {
      request, context in
      try await Self.mapped(logger, context) {
        guard context.metadata[MetadataKey.tenant] == nil else {
          throw RPCError(.permissionDenied, "a tenant's call cannot create tenants")
        }
        let record = try await registry.create(
          slug: request.slug, displayName: request.displayName, planID: request.planId,
          cluster: request.cluster, idempotencyKey: request.idempotencyKey)
        var response = Kp_Tenants_V1_CreateTenantResponse()
        response.tenant = Kp_Tenants_V1_Tenant(record)
        return response
      }
    }

    table.unary(Kp_Tenants_V1_Tenants.getTenant, callers: Self.readers) { request, context in
      try await Self.mapped(logger, context) {
        let record: TenantRecord
        switch request.key {
        case .id(let id)?: record = try await registry.record(id: id)
        case .slug(let slug)?: record = try await registry.record(slug: slug)
        case nil: throw RPCError(.invalidArgument, "give the tenant's id or slug")
        }
        try Self.checkScope(record.id, context)
        var response = Kp_Tenants_V1_GetTenantResponse()
        response.tenant = Kp_Tenants_V1_Tenant(record)
        response.effectiveQuotas = Kp_Tenants_V1_Quotas(record.quotas)
        if request.includeUsage {
          let usage = try await registry.usage(of: record)
          var message = Kp_Tenants_V1_Usage()
          message.documents = UInt64(clamping: usage["documents"] ?? 0)
          message.storedBytes = UInt64(clamping: usage["stored_bytes"] ?? 0)
          response.usage = message
        }
        return response
      }
    }

    table.unary(Kp_Tenants_V1_Tenants.listTenants, callers: Self.administrators) {
      request, context in
      try await Self.mapped(logger, context) {
        guard context.metadata[MetadataKey.tenant] == nil else {
          throw RPCError(.permissionDenied, "a tenant's call cannot list tenants")
        }
        let size =
          request.pageSize == 0
          ? Self.defaultPageSize : min(Int(request.pageSize), Self.maximumPageSize)
        let token = try PageToken(parsing: request.pageToken)
        let records = try await registry.list(
          afterSlug: token.afterSlug, limit: size + 1, state: request.state.registryState)
        var response = Kp_Tenants_V1_ListTenantsResponse()
        response.tenants = records.prefix(size).map(Kp_Tenants_V1_Tenant.init)
        if records.count > size, let last = records.prefix(size).last {
          response.nextPageToken = PageToken(afterSlug: last.slug).text
        }
        return response
      }
    }

    table.unary(Kp_Tenants_V1_Tenants.suspendTenant, callers: Self.administrators) {
      request, context in
      try await Self.mapped(logger, context) {
        try Self.checkScope(request.id, context)
        let record = try await registry.setSuspended(
          id: request.id, true, reason: request.reason)
        var response = Kp_Tenants_V1_SuspendTenantResponse()
        response.tenant = Kp_Tenants_V1_Tenant(record)
        return response
      }
    }

    table.unary(Kp_Tenants_V1_Tenants.resumeTenant, callers: Self.administrators) {
      request, context in
      try await Self.mapped(logger, context) {
        try Self.checkScope(request.id, context)
        let record = try await registry.setSuspended(id: request.id, false, reason: "")
        var response = Kp_Tenants_V1_ResumeTenantResponse()
        response.tenant = Kp_Tenants_V1_Tenant(record)
        return response
      }
    }

    table.unary(Kp_Tenants_V1_Tenants.changePlan, callers: Self.administrators) {
      request, context in
      try await Self.mapped(logger, context) {
        try Self.checkScope(request.id, context)
        let record = try await registry.changePlan(id: request.id, to: request.planId)
        var response = Kp_Tenants_V1_ChangePlanResponse()
        response.tenant = Kp_Tenants_V1_Tenant(record)
        return response
      }
    }

    table.unary(Kp_Tenants_V1_Tenants.deleteTenant, callers: Self.administrators) {
      request, context in
      try await Self.mapped(logger, context) {
        try Self.checkScope(request.id, context)
        try await registry.delete(id: request.id, confirmSlug: request.confirmSlug)
        return Kp_Tenants_V1_DeleteTenantResponse()
      }
    }

    table.unary(Kp_Tenants_V1_Tenants.listPlans, callers: Self.readers) { _, context in
      try await Self.mapped(logger, context) {
        var response = Kp_Tenants_V1_ListPlansResponse()
        response.plans = try await registry.plans().map { plan in
          var message = Kp_Tenants_V1_Plan()
          message.id = plan.id
          message.displayName = plan.name
          message.quotas = Kp_Tenants_V1_Quotas(plan.quotas)
          return message
        }
        return response
      }
    }

    table.serverStreaming(Kp_Tenants_V1_Tenants.migrate, callers: Self.administrators) {
      request, writer, context in
      try await Self.mapped(logger, context) {
        guard context.metadata[MetadataKey.tenant] == nil else {
          throw RPCError(.permissionDenied, "a tenant's call cannot run migrations")
        }
        let concurrency = request.concurrency == 0 ? 4 : min(Int(request.concurrency), 64)
        let summary = try await registry.migrate(
          tenantIDs: request.tenantIds, version: Int(request.targetVersion),
          concurrency: concurrency
        ) { report in
          try? await writer.send(Kp_Tenants_V1_MigrateProgress(report))
        }
        try await writer.send(Kp_Tenants_V1_MigrateProgress(summary))
      }
    }

    table.unary(Kp_Tenants_V1_Tenants.moveTenant, callers: Self.administrators) { _, _ in
      throw RPCError(
        .unimplemented,
        "moving a tenant between clusters is not supported by this version of kp-tenants")
    }
  }

  /// NOT_FOUND when the call acts for a tenant other than `id`.
  private static func checkScope(_ id: String, _ context: ServerContext) throws(RPCError) {
    if let tenant = context.metadata[MetadataKey.tenant], tenant != id {
      throw TenantRegistry.notFound
    }
  }

  /// Runs a handler's body, turning database failures into status codes: unreachable or
  /// exhausted databases are UNAVAILABLE, anything else INTERNAL with the detail logged, not
  /// sent.
  private static func mapped<Result>(
    _ logger: Logger, _ context: ServerContext, _ body: () async throws -> Result
  ) async throws -> Result {
    do {
      return try await body()
    } catch let error as RPCError {
      throw error
    } catch let error as DatabaseError {
      if error.code == .tenantNotFound { throw TenantRegistry.notFound }
      if TenantRegistry.isTransient(error) {
        logger.warning(
          "database unavailable",
          ["method": context.method, "trace_id": context.traceID, "error": "\(error)"])
        throw RPCError(.unavailable, "the tenant registry's database is unavailable; retry")
      }
      logger.error(
        "database error",
        ["method": context.method, "trace_id": context.traceID, "error": "\(error)"])
      throw RPCError(
        .internalError, "the tenant registry failed (trace id \(context.traceID))")
    } catch {
      logger.error(
        "request failed",
        ["method": context.method, "trace_id": context.traceID, "error": "\(error)"])
      throw RPCError(.internalError, "the tenant registry failed (trace id \(context.traceID))")
    }
  }
}
