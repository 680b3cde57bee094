import KPDatabase
import KPDocuments
import KPLogging
import KPProtocol
import KPRPC
import KPServiceKit

/// `kp.ingest.v1.Ingest`: accepts batches of documents durably and reports on their jobs.
///
/// Only the gateway may call it. The tenant comes from the `kp-tenant` metadata the gateway
/// set from a verified credential; a call without one is refused. A batch is committed to the
/// tenant's own queue tables (migration 5), under the tenant's role, and indexed in the
/// platform's ``PendingJobIndex`` before the call returns; an ``IngestWorker`` then processes it.
struct IngestService: RPCService {
  let databases: TenantDatabases
  let index: PendingJobIndex
  let options: IngestOptions
  let wakeups: WakeSignal
  let logger: Logger

  /// The media types ingest can normalise, for refusing others at submit.
  let supportedMediaTypes: Set<String>

  /// Makes the service.
  init(
    databases: TenantDatabases, index: PendingJobIndex, options: IngestOptions,
    wakeups: WakeSignal, logger: Logger
  ) {
    self.databases = databases
    self.index = index
    self.options = options
    self.wakeups = wakeups
    self.logger = logger
    supportedMediaTypes = Set(
      (try? DocumentNormalizerRegistry.standard())?.supportedMediaTypes ?? [])
  }

  func register(into table: inout MethodTable) {
    let callers = CallerPolicy.only([MeshService.identity(of: "gateway")])
    table.unary(Kp_Ingest_V1_Ingest.submitBatch, callers: callers) { request, context in
      try await handle { () async throws(IngestError) in try await submit(request, context) }
    }
    table.unary(Kp_Ingest_V1_Ingest.getJob, callers: callers) { request, context in
      try await handle { () async throws(IngestError) in try await job(request, context) }
    }
  }

  /// Runs a handler, turning its ``IngestError`` into the call's status.
  private func handle<Response>(
    _ body: () async throws(IngestError) -> Response
  ) async throws(RPCError) -> Response {
    do {
      return try await body()
    } catch {
      if error.code == .internalFailure || error.code == .unavailable {
        logger.error("request failed", ["code": "\(error.code)", "error": error.message])
      }
      throw error.rpcError
    }
  }

  /// The tenant a call acts for, from the `kp-tenant` metadata the gateway sets.
  ///
  /// - Throws: ``IngestError`` `invalidArgument` when the call names no tenant.
  static func tenant(of context: ServerContext) throws(IngestError) -> String {
    guard let tenant = context.metadata[MetadataKey.tenant], !tenant.isEmpty else {
      throw IngestError(
        .invalidArgument,
        "the call has no '\(MetadataKey.tenant)' metadata; ingest works only for a tenant")
    }
    return tenant
  }

  /// The tenant's record: its state and its plan's quotas.
  ///
  /// - Throws: ``IngestError`` `notFound` for an unknown or deleted tenant, `unavailable` when
  ///   the registry cannot be read.
  func record(of tenantID: String) async throws(IngestError) -> TenantRecord {
    let found: TenantRecord?
    do {
      found = try await databases.directory.record(for: tenantID)
    } catch {
      throw IngestError(.unavailable, "the tenant registry cannot be read; try again")
    }
    guard let record = found, record.state.hasData else {
      throw IngestError(.notFound, "no such tenant")
    }
    return record
  }

  /// Runs `body` in a transaction scoped to the tenant, mapping database failures.
  func inTenant<Result: Sendable>(
    _ tenantID: String,
    _ body: @escaping @Sendable (DatabaseTransaction) throws -> Result
  ) async throws(IngestError) -> Result {
    do {
      return try await databases.withTenant(tenantID, body)
    } catch let error as IngestError {
      throw error
    } catch let error as DatabaseError {
      if error.code == .tenantNotFound || error.code == .invalidIdentifier {
        throw IngestError(.notFound, "no such tenant")
      }
      if error.code == .serverError && error.sqlState == "42P01" {
        throw IngestError(
          .failedPrecondition,
          "the tenant's schema has no ingest tables yet (schema version 5); run "
            + "'kp-tenants migrate'")
      }
      if error.code == .serverError {
        logger.error("database statement failed", ["sqlstate": error.sqlState ?? ""])
        throw IngestError(.internalFailure, "the request failed in the database")
      }
      throw IngestError(.unavailable, "the database cannot be reached; try again")
    } catch {
      throw IngestError(.internalFailure, "the request failed")
    }
  }
}
