import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTLS
import KPTesting

@testable import Ingest

#if canImport(Glibc)
  import Glibc
#endif

/// kp-ingest in this process, on a fresh PostgreSQL database with the tenant registry, talking
/// mutual TLS to a real kp-knowledge child process, and called as the gateway.
final class IngestHarness: @unchecked Sendable {
  let url: String
  let mesh: TestMesh
  let clusters: DatabaseClusters
  let knowledgeProcess: ServiceProcess
  let server: RPCServer
  /// Calls kp-ingest as the gateway.
  let gateway: RPCChannel
  /// Calls kp-knowledge as the gateway, for searches.
  let knowledgeAsGateway: RPCChannel
  /// Calls kp-knowledge as ingest, for statistics and reads.
  let knowledgeAsIngest: RPCChannel
  let worker: IngestWorker
  let index: PendingJobIndex
  let migrator = TenantMigrator()
  private let lock = NSLock()
  private var workerTask: Task<Void, Never>?

  /// Options fit for tests: quick polls and retries.
  static var testOptions: IngestOptions {
    var options = IngestOptions()
    options.pollInterval = .milliseconds(50)
    options.initialBackoff = .milliseconds(50)
    options.maximumBackoff = .milliseconds(200)
    options.lease = .seconds(5)
    options.knowledgeTimeout = .seconds(10)
    return options
  }

  private init(
    url: String, mesh: TestMesh, options: IngestOptions, knowledgeReachable: Bool,
    startWorker: Bool
  ) async throws {
    self.url = url
    self.mesh = mesh
    clusters = try DatabaseClusters(clusters: [.init(name: "main", url: url)])
    try await RegistrySchema.installRegistry(on: clusters.registry)
    try await RegistrySchema.installLedger(on: clusters.registry)
    knowledgeProcess = try await ServiceProcess.start(
      "kp-knowledge",
      arguments: [
        "--certs-dir", try mesh.certificatesDirectory(for: "knowledge"),
        "--listen-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
        "--database-url", url, "--tenant-cache-seconds", "0",
      ])
    let knowledgePort = knowledgeReachable ? knowledgeProcess.port : try Self.closedPort()
    let databases = TenantDatabases(
      clusters: clusters,
      directory: TenantDirectory.registry(clusters.registry, maximumStaleness: .zero))
    index = PendingJobIndex(pool: clusters.registry)
    try await index.install()
    let wakeups = WakeSignal()
    var client = RPCClientConfiguration()
    client.retry.maximumAttempts = 2
    client.connectTimeout = .seconds(2)
    let knowledge = try mesh.channel(
      from: "ingest", to: "knowledge", ports: [knowledgePort], configuration: client)
    worker = IngestWorker(
      databases: databases, index: index, knowledge: knowledge, options: options,
      preparer: try DocumentPreparer(options: options), wakeups: wakeups, logger: .disabled)
    let service = IngestService(
      databases: databases, index: index, options: options, wakeups: wakeups,
      logger: .disabled)
    server = try mesh.startServer(service: "ingest", offering: [service])
    gateway = try mesh.channel(from: "gateway", to: "ingest", ports: [server.port])
    knowledgeAsGateway = try mesh.channel(
      from: "gateway", to: "knowledge", ports: [knowledgeProcess.port])
    knowledgeAsIngest = try mesh.channel(
      from: "ingest", to: "knowledge", ports: [knowledgeProcess.port])
    if startWorker { self.startWorker() }
  }

  /// Runs `body` with a harness on a fresh database, then stops everything.
  static func with(
    options: IngestOptions = testOptions, knowledgeReachable: Bool = true,
    startWorker: Bool = true, _ body: (IngestHarness) async throws -> Void
  ) async throws {
    TLSRuntime.ignoreSIGPIPE()
    let mesh = try TestMesh()
    try await PostgresFixture.withDatabase { url in
      let harness = try await IngestHarness(
        url: url, mesh: mesh, options: options, knowledgeReachable: knowledgeReachable,
        startWorker: startWorker)
      do {
        try await body(harness)
      } catch {
        await harness.stop()
        throw error
      }
      await harness.stop()
    }
  }

  /// Starts the worker loop (with its start-up sweep).
  func startWorker() {
    let worker = worker
    lock.withLock { workerTask = Task { await worker.run() } }
  }

  /// Stops the worker loop.
  func stopWorker() async {
    let task = lock.withLock { () -> Task<Void, Never>? in
      defer { workerTask = nil }
      return workerTask
    }
    task?.cancel()
    await task?.value
  }

  private func stop() async {
    await stopWorker()
    gateway.close()
    knowledgeAsGateway.close()
    knowledgeAsIngest.close()
    worker.knowledge.close()
    await server.shutdown(grace: .zero)
    knowledgeProcess.stop()
    await Self.dropTenants(clusters, migrator)
    clusters.close()
  }

  /// Drops the schemas and roles of every tenant in the registry (roles outlive databases).
  static func dropTenants(_ clusters: DatabaseClusters, _ migrator: TenantMigrator) async {
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
  }

  /// A loopback port nothing listens on.
  static func closedPort() throws -> Int {
    let port = try freePort()
    return port
  }

  /// A loopback port free now, found by binding port 0.
  static func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
        bind(descriptor, socketAddress, length) == 0
          && getsockname(descriptor, socketAddress, &length) == 0
      }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
  }

  // MARK: - Tenants

  /// Creates an active tenant on a plan, with quota overrides; returns its id.
  func makeTenant(
    _ slug: String, plan: String = "free", maximumDocuments: Int? = nil,
    maximumStoredBytes: Int? = nil, maximumDocumentBytes: Int? = nil
  ) async throws -> String {
    try await Self.makeTenant(
      clusters, migrator, slug, plan: plan, maximumDocuments: maximumDocuments,
      maximumStoredBytes: maximumStoredBytes, maximumDocumentBytes: maximumDocumentBytes)
  }

  /// Creates an active tenant with every migration in a registry; returns its id.
  static func makeTenant(
    _ clusters: DatabaseClusters, _ migrator: TenantMigrator, _ slug: String,
    plan: String = "free", maximumDocuments: Int? = nil, maximumStoredBytes: Int? = nil,
    maximumDocumentBytes: Int? = nil
  ) async throws -> String {
    let id = TenantScope.newTenantID()
    let scope = try TenantScope(tenantID: id)
    try await clusters.registry.withTransaction { transaction in
      try transaction.query(
        "INSERT INTO kp_registry.tenants (id, slug, display_name, plan_id, state, cluster, "
          + "schema_version, override_max_documents, override_max_stored_bytes, "
          + "override_max_document_bytes) VALUES ($1, $2, $2, $3, 'active', 'main', $4, "
          + "$5::bigint, $6::bigint, $7::bigint)",
        [
          id, slug, plan, String(migrator.latestVersion), maximumDocuments.map { "\($0)" },
          maximumStoredBytes.map { "\($0)" }, maximumDocumentBytes.map { "\($0)" },
        ])
      try migrator.provision(scope, atVersion: migrator.latestVersion, in: transaction)
    }
    return id
  }

  // MARK: - Calls

  /// Call options naming a tenant.
  static func options(_ tenantID: String?) -> CallOptions {
    var options = CallOptions()
    if let tenantID { options.metadata.add(MetadataKey.tenant, tenantID) }
    return options
  }

  /// A document to upsert, visible to the whole tenant.
  static func document(
    _ externalID: String, _ text: String, type: String = "text/plain", title: String = "",
    source: String = "wiki"
  ) -> Kp_Ingest_V1_IngestDocument {
    document(externalID, bytes: Array(text.utf8), type: type, title: title, source: source)
  }

  /// A document to upsert from raw bytes, visible to the whole tenant.
  static func document(
    _ externalID: String, bytes: [UInt8], type: String = "text/plain", title: String = "",
    source: String = "wiki"
  ) -> Kp_Ingest_V1_IngestDocument {
    var document = Kp_Ingest_V1_IngestDocument()
    document.operation = .upsert
    document.source = source
    document.externalId = externalID
    document.title = title
    document.contentType = type
    document.content = bytes
    document.tenantWide = true
    return document
  }

  /// A delete of a document.
  static func deletion(_ externalID: String, source: String = "wiki") -> Kp_Ingest_V1_IngestDocument
  {
    var document = Kp_Ingest_V1_IngestDocument()
    document.operation = .delete
    document.source = source
    document.externalId = externalID
    return document
  }

  /// Submits a batch as the gateway.
  @discardableResult
  func submit(
    _ tenantID: String?, key: String, _ documents: [Kp_Ingest_V1_IngestDocument]
  ) async throws -> Kp_Ingest_V1_SubmitBatchResponse {
    var request = Kp_Ingest_V1_SubmitBatchRequest()
    request.idempotencyKey = key
    request.documents = documents
    return try await gateway.unary(
      Kp_Ingest_V1_Ingest.submitBatch, request, options: Self.options(tenantID))
  }

  /// Reads a job as the gateway.
  func job(_ tenantID: String?, _ id: String) async throws -> Kp_Ingest_V1_Job {
    var request = Kp_Ingest_V1_GetJobRequest()
    request.jobId = id
    return try await gateway.unary(
      Kp_Ingest_V1_Ingest.getJob, request, options: Self.options(tenantID)
    ).job ?? Kp_Ingest_V1_Job()
  }

  /// Waits until a job is finished (succeeded, partially failed or failed), for at most
  /// `timeout`, and returns it.
  func finished(
    _ tenantID: String, _ id: String, timeout: Duration = .seconds(60)
  ) async throws -> Kp_Ingest_V1_Job {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while true {
      let job = try await job(tenantID, id)
      if [.succeeded, .partiallyFailed, .failed].contains(job.state) { return job }
      guard ContinuousClock.now < deadline else { return job }
      try await Task.sleep(for: .milliseconds(50))
    }
  }

  /// Submits a batch and waits for its job to finish.
  func ingest(
    _ tenantID: String, key: String, _ documents: [Kp_Ingest_V1_IngestDocument]
  ) async throws -> Kp_Ingest_V1_Job {
    let response = try await submit(tenantID, key: key, documents)
    return try await finished(tenantID, response.jobId)
  }

  /// Searches the knowledge store as the gateway, for a user.
  func search(_ tenantID: String, _ query: String) async throws -> Kp_Knowledge_V1_SearchResponse {
    var request = Kp_Knowledge_V1_SearchRequest()
    request.query = query
    request.pageSize = 50
    var options = Self.options(tenantID)
    options.metadata.add(MetadataKey.user, "u-reader")
    return try await knowledgeAsGateway.unary(
      Kp_Knowledge_V1_Knowledge.search, request, options: options)
  }

  /// The knowledge store's statistics for a tenant.
  func stats(_ tenantID: String) async throws -> Kp_Knowledge_V1_StatsResponse {
    try await knowledgeAsIngest.unary(
      Kp_Knowledge_V1_Knowledge.stats, Kp_Knowledge_V1_StatsRequest(),
      options: Self.options(tenantID))
  }

  /// A stored document by source and external id.
  func stored(
    _ tenantID: String, _ externalID: String, source: String = "wiki"
  ) async throws -> Kp_Knowledge_V1_Document? {
    var request = Kp_Knowledge_V1_GetDocumentRequest()
    var key = Kp_Knowledge_V1_ExternalKey()
    key.source = source
    key.externalId = externalID
    request.key = .external(key)
    return try await knowledgeAsIngest.unary(
      Kp_Knowledge_V1_Knowledge.getDocument, request, options: Self.options(tenantID)
    ).document
  }

  /// Runs one query in a tenant's schema, with its role.
  func tenantQuery(
    _ tenantID: String, _ sql: String, _ parameters: [String?] = []
  ) async throws -> PostgresRows {
    try await clusters.pool("main").withTenant(try TenantScope(tenantID: tenantID)) {
      transaction in
      try transaction.query(sql, parameters)
    }
  }

  /// Runs one query on the database as the platform.
  @discardableResult
  func platformQuery(_ sql: String, _ parameters: [String?] = []) async throws -> PostgresRows {
    try await clusters.registry.withConnection { connection in
      try connection.query(sql, parameters)
    }
  }
}
