import KPDatabase
import KPLogging
import KPProtocol
import KPRPC
import KPServiceKit

/// `kp.knowledge.v1.Knowledge`: each tenant's documents, their chunks and access lists, and
/// permission-aware full-text search.
///
/// Only the gateway and the ingest service may call it. Every call names its tenant in the
/// `kp-tenant` metadata entry and runs in that tenant's scoped transaction, so a document id
/// of another tenant is simply not found. Calls from the gateway also carry the user
/// (`kp-user`) and groups (`kp-groups`) from a verified token, and see only the documents
/// whose access list admits them.
struct KnowledgeService: RPCService {
  let databases: TenantDatabases
  let logger: Logger

  func register(into table: inout MethodTable) {
    let callers = CallerPolicy.only([
      MeshService.identity(of: "gateway"), MeshService.identity(of: "ingest"),
    ])
    table.unary(Kp_Knowledge_V1_Knowledge.upsertDocuments, callers: callers) { request, context in
      try await handle { () async throws(KnowledgeError) in try await upsert(request, context) }
    }
    table.unary(Kp_Knowledge_V1_Knowledge.getDocument, callers: callers) { request, context in
      try await handle { () async throws(KnowledgeError) in try await get(request, context) }
    }
    table.unary(Kp_Knowledge_V1_Knowledge.listDocuments, callers: callers) { request, context in
      try await handle { () async throws(KnowledgeError) in try await list(request, context) }
    }
    table.unary(Kp_Knowledge_V1_Knowledge.deleteDocuments, callers: callers) { request, context in
      try await handle { () async throws(KnowledgeError) in try await delete(request, context) }
    }
    table.unary(Kp_Knowledge_V1_Knowledge.search, callers: callers) { request, context in
      try await handle { () async throws(KnowledgeError) in try await search(request, context) }
    }
    table.unary(Kp_Knowledge_V1_Knowledge.stats, callers: callers) { request, context in
      try await handle { () async throws(KnowledgeError) in try await stats(request, context) }
    }
    table.unary(Kp_Knowledge_V1_Knowledge.setSearchConfiguration, callers: callers) {
      request, context in
      try await handle { () async throws(KnowledgeError) in
        try await setSearchConfiguration(request, context)
      }
    }
  }

  /// Runs a handler, turning its ``KnowledgeError`` into the call's status.
  private func handle<Response>(
    _ body: () async throws(KnowledgeError) -> Response
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

  /// Runs `body` in a transaction scoped to the tenant, mapping database failures.
  func inTenant<Result: Sendable>(
    _ tenantID: String,
    _ body: @escaping @Sendable (DatabaseTransaction) throws -> Result
  ) async throws(KnowledgeError) -> Result {
    do {
      return try await databases.withTenant(tenantID, body)
    } catch let error as KnowledgeError {
      throw error
    } catch let error as DatabaseError {
      if error.code == .tenantNotFound || error.code == .invalidIdentifier {
        throw KnowledgeError(.notFound, "no such tenant")
      }
      if error.code == .serverError {
        logger.error("database statement failed", ["sqlstate": error.sqlState ?? ""])
        throw KnowledgeError(.internalFailure, "the request failed in the database")
      }
      throw KnowledgeError(.unavailable, "the database cannot be reached; try again")
    } catch {
      throw KnowledgeError(.internalFailure, "the request failed")
    }
  }
}
