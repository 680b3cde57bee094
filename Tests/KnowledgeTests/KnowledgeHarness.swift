import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTLS
import KPTesting

@testable import Knowledge

/// A real kp-knowledge for one test: a fresh PostgreSQL database with the tenant registry,
/// tenants provisioned with every migration, the service on loopback over mutual TLS, and
/// channels from the gateway's and the ingest service's identities.
final class KnowledgeHarness: Sendable {
  let clusters: DatabaseClusters
  let server: RPCServer
  let gateway: RPCChannel
  let ingest: RPCChannel
  let migrator = TenantMigrator()

  private init(url: String, mesh: TestMesh) async throws {
    clusters = try DatabaseClusters(clusters: [.init(name: "main", url: url)])
    try await RegistrySchema.installRegistry(on: clusters.registry)
    try await RegistrySchema.installLedger(on: clusters.registry)
    let service = KnowledgeService(
      databases: TenantDatabases(
        clusters: clusters,
        directory: TenantDirectory.registry(clusters.registry, maximumStaleness: .zero)),
      logger: .disabled)
    server = try mesh.startServer(service: "knowledge", offering: [service])
    gateway = try mesh.channel(from: "gateway", to: "knowledge", ports: [server.port])
    ingest = try mesh.channel(from: "ingest", to: "knowledge", ports: [server.port])
  }

  /// Runs `body` with a harness on a fresh database, then stops everything.
  static func with(_ body: (KnowledgeHarness) async throws -> Void) async throws {
    TLSRuntime.ignoreSIGPIPE()
    let mesh = try TestMesh()
    try await PostgresFixture.withDatabase { url in
      let harness = try await KnowledgeHarness(url: url, mesh: mesh)
      do {
        try await body(harness)
      } catch {
        await harness.stop()
        throw error
      }
      await harness.stop()
    }
  }

  private func stop() async {
    gateway.close()
    ingest.close()
    await server.shutdown(grace: .zero)
    // Tenant roles belong to the whole cluster: drop them with their schemas.
    let migrator = migrator
    let tenants =
      (try? await clusters.registry.withConnection { connection in
        try connection.query("SELECT id FROM kp_registry.tenants").compactMap { $0["id"] ?? nil }
      }) ?? []
    for id in tenants {
      guard let scope = try? TenantScope(tenantID: id) else { continue }
      _ = try? await clusters.registry.withTransaction { transaction in
        try migrator.deprovision(scope, in: transaction)
      }
    }
    clusters.close()
  }

  /// Creates an active tenant with every migration; returns its id.
  func makeTenant(_ slug: String) async throws -> String {
    let id = TenantScope.newTenantID()
    let scope = try TenantScope(tenantID: id)
    let migrator = migrator
    try await clusters.registry.withTransaction { transaction in
      try transaction.query(
        "INSERT INTO kp_registry.tenants (id, slug, display_name, plan_id, state, cluster, "
          + "schema_version) VALUES ($1, $2, $2, 'free', 'active', 'main', $3)",
        [id, slug, String(migrator.latestVersion)])
      try migrator.provision(scope, atVersion: migrator.latestVersion, in: transaction)
    }
    return id
  }

  /// Call options for a tenant, and for a user with groups when searching as one.
  static func options(
    _ tenantID: String, user: String = "", groups: [String] = []
  ) -> CallOptions {
    var options = CallOptions()
    options.metadata.add(MetadataKey.tenant, tenantID)
    if !user.isEmpty { options.metadata.add(MetadataKey.user, user) }
    if !groups.isEmpty { options.metadata.add(Caller.groupsKey, groups.joined(separator: ",")) }
    return options
  }

  /// A document visible to the whole tenant unless an access list is given.
  static func document(
    _ externalID: String, title: String, text: String, source: String = "wiki",
    contentType: String = "text/plain", modifiedAtMicros: Int64 = 0,
    access: Kp_Knowledge_V1_AccessList? = tenantWide
  ) -> Kp_Knowledge_V1_Document {
    var document = Kp_Knowledge_V1_Document()
    document.source = source
    document.externalId = externalID
    document.title = title
    document.text = text
    document.contentType = contentType
    document.modifiedAtMicros = modifiedAtMicros
    document.access = access
    return document
  }

  /// An access list for the whole tenant.
  static var tenantWide: Kp_Knowledge_V1_AccessList {
    var access = Kp_Knowledge_V1_AccessList()
    access.tenantWide = true
    return access
  }

  /// An access list for groups.
  static func groups(_ names: String...) -> Kp_Knowledge_V1_AccessList {
    var access = Kp_Knowledge_V1_AccessList()
    access.groups = names
    return access
  }

  /// Upserts documents through the ingest identity.
  @discardableResult
  func upsert(
    _ tenantID: String, _ documents: [Kp_Knowledge_V1_Document]
  ) async throws -> [Kp_Knowledge_V1_UpsertResult] {
    var request = Kp_Knowledge_V1_UpsertDocumentsRequest()
    request.documents = documents
    return try await ingest.unary(
      Kp_Knowledge_V1_Knowledge.upsertDocuments, request, options: Self.options(tenantID)
    ).results
  }

  /// Searches through the gateway identity as a user.
  func search(
    _ tenantID: String, _ query: String, user: String = "u-ada", groups: [String] = [],
    filters: Kp_Knowledge_V1_SearchFilters? = nil, pageSize: UInt32 = 0, pageToken: String = ""
  ) async throws -> Kp_Knowledge_V1_SearchResponse {
    var request = Kp_Knowledge_V1_SearchRequest()
    request.query = query
    request.filters = filters
    request.pageSize = pageSize
    request.pageToken = pageToken
    return try await gateway.unary(
      Kp_Knowledge_V1_Knowledge.search, request,
      options: Self.options(tenantID, user: user, groups: groups))
  }

  /// Reads a document by id through the ingest identity.
  func get(_ tenantID: String, id: String) async throws -> Kp_Knowledge_V1_Document? {
    var request = Kp_Knowledge_V1_GetDocumentRequest()
    request.key = .id(id)
    return try await ingest.unary(
      Kp_Knowledge_V1_Knowledge.getDocument, request, options: Self.options(tenantID)
    ).document
  }

  /// The tenant's usage counters as the tenant registry reads them (`documents`,
  /// `stored_bytes`).
  func usage(_ tenantID: String) async throws -> [String: Int] {
    let scope = try TenantScope(tenantID: tenantID)
    let rows = try await clusters.registry.withTenant(scope) { transaction in
      try transaction.query("SELECT name, value FROM usage_counters")
    }
    var usage: [String: Int] = [:]
    for row in rows { usage[row["name"] ?? ""] = Int(row["value"] ?? "") ?? 0 }
    return usage
  }

  /// Deletes documents through the ingest identity; returns how many were deleted.
  @discardableResult
  func delete(
    _ tenantID: String, ids: [String] = [], external: [(String, String)] = []
  ) async throws -> UInt32 {
    var request = Kp_Knowledge_V1_DeleteDocumentsRequest()
    request.ids = ids
    request.external = external.map { source, externalID in
      var key = Kp_Knowledge_V1_ExternalKey()
      key.source = source
      key.externalId = externalID
      return key
    }
    return try await ingest.unary(
      Kp_Knowledge_V1_Knowledge.deleteDocuments, request, options: Self.options(tenantID)
    ).deleted
  }

  /// The tenant's statistics.
  func stats(_ tenantID: String) async throws -> Kp_Knowledge_V1_StatsResponse {
    try await ingest.unary(
      Kp_Knowledge_V1_Knowledge.stats, Kp_Knowledge_V1_StatsRequest(),
      options: Self.options(tenantID))
  }
}
