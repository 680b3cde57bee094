import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTLS
import KPTesting

#if canImport(Glibc)
  import Glibc
#endif

/// kp-knowledge and kp-ingest as real child processes on fixed loopback ports, over mutual TLS,
/// so a test can kill either with SIGKILL and start it again where the other expects it.
final class CrashMesh: @unchecked Sendable {
  let url: String
  let clusters: DatabaseClusters
  let mesh: TestMesh
  let tenantID: String
  let migrator = TenantMigrator()
  let knowledgePort: Int
  let ingestPort: Int
  private let knowledgeCertificates: String
  private let ingestCertificates: String
  private let lock = NSLock()
  private var knowledge: ServiceProcess?
  private var ingest: ServiceProcess?
  /// Calls kp-ingest as the gateway; no retries of its own.
  let gateway: RPCChannel
  /// Calls kp-knowledge as the gateway and as ingest, for checks.
  let knowledgeAsGateway: RPCChannel
  let knowledgeAsIngest: RPCChannel

  private init(url: String, mesh: TestMesh) async throws {
    self.url = url
    self.mesh = mesh
    clusters = try DatabaseClusters(clusters: [.init(name: "main", url: url)])
    try await RegistrySchema.installRegistry(on: clusters.registry)
    try await RegistrySchema.installLedger(on: clusters.registry)
    tenantID = try await IngestHarness.makeTenant(clusters, migrator, "crash", plan: "team")
    knowledgePort = try IngestHarness.freePort()
    ingestPort = try IngestHarness.freePort()
    knowledgeCertificates = try mesh.certificatesDirectory(for: "knowledge")
    ingestCertificates = try mesh.certificatesDirectory(for: "ingest")
    var client = RPCClientConfiguration()
    client.retry.maximumAttempts = 1
    client.connectTimeout = .seconds(2)
    client.defaultTimeout = .seconds(15)
    gateway = try mesh.channel(
      from: "gateway", to: "ingest", ports: [ingestPort], configuration: client)
    knowledgeAsGateway = try mesh.channel(
      from: "gateway", to: "knowledge", ports: [knowledgePort], configuration: client)
    knowledgeAsIngest = try mesh.channel(
      from: "ingest", to: "knowledge", ports: [knowledgePort], configuration: client)
  }

  /// Runs `body` with both services started on a database, then stops everything.
  static func with(url: String, _ body: (CrashMesh) async throws -> Void) async throws {
    TLSRuntime.ignoreSIGPIPE()
    let crashMesh = try await CrashMesh(url: url, mesh: try TestMesh())
    do {
      try await crashMesh.startKnowledge()
      try await crashMesh.startIngest()
      try await body(crashMesh)
    } catch {
      await crashMesh.stop()
      throw error
    }
    await crashMesh.stop()
  }

  private func stop() async {
    gateway.close()
    knowledgeAsGateway.close()
    knowledgeAsIngest.close()
    let processes = lock.withLock { [ingest, knowledge] }
    for process in processes { process?.stop() }
    await IngestHarness.dropTenants(clusters, migrator)
    clusters.close()
  }

  /// Starts kp-knowledge on its port, retrying while the port is still held.
  func startKnowledge() async throws {
    let process = try await start(
      "kp-knowledge",
      [
        "--certs-dir", knowledgeCertificates,
        "--listen-address", "127.0.0.1:\(knowledgePort)",
        "--database-acquire-timeout-seconds", "5",
      ])
    lock.withLock { knowledge = process }
  }

  /// Starts kp-ingest on its port, with short leases and quick retries.
  func startIngest() async throws {
    let process = try await start(
      "kp-ingest",
      [
        "--certs-dir", ingestCertificates, "--listen-address", "127.0.0.1:\(ingestPort)",
        "--knowledge-address", "127.0.0.1:\(knowledgePort)", "--lease-seconds", "3",
        "--max-attempts", "1000", "--retry-initial-ms", "100", "--retry-max-seconds", "1",
        "--poll-interval-ms", "100", "--knowledge-timeout-seconds", "10",
        "--database-acquire-timeout-seconds", "5",
      ])
    lock.withLock { ingest = process }
  }

  private func start(_ executable: String, _ arguments: [String]) async throws -> ServiceProcess {
    let common = [
      "--metrics-address", "127.0.0.1:0", "--database-url", url, "--tenant-cache-seconds", "1",
    ]
    var lastError: (any Error)?
    for _ in 0..<10 {
      do {
        return try await ServiceProcess.start(
          executable, arguments: arguments + common, timeout: .seconds(30))
      } catch {
        lastError = error
        try await Task.sleep(for: .milliseconds(250))
      }
    }
    throw lastError ?? POSIXError(.ETIMEDOUT)
  }

  /// Kills kp-ingest with SIGKILL and starts it again.
  func killIngest() async throws {
    lock.withLock { ingest }?.kill(SIGKILL)
    try await startIngest()
  }

  /// Kills kp-knowledge with SIGKILL and starts it again.
  func killKnowledge() async throws {
    lock.withLock { knowledge }?.kill(SIGKILL)
    try await startKnowledge()
  }

  /// Submits a batch as the gateway, retrying with the same key until it is accepted or
  /// `timeout` passes; returns the answer and how many calls it took.
  func submitUntilAccepted(
    key: String, _ documents: [Kp_Ingest_V1_IngestDocument], timeout: Duration = .seconds(60)
  ) async throws -> (response: Kp_Ingest_V1_SubmitBatchResponse, calls: Int) {
    var request = Kp_Ingest_V1_SubmitBatchRequest()
    request.idempotencyKey = key
    request.documents = documents
    let deadline = ContinuousClock.now.advanced(by: timeout)
    var calls = 0
    while true {
      calls += 1
      do {
        let response = try await gateway.unary(
          Kp_Ingest_V1_Ingest.submitBatch, request, options: IngestHarness.options(tenantID))
        return (response, calls)
      } catch {
        guard ContinuousClock.now < deadline else { throw error }
        try await Task.sleep(for: .milliseconds(200))
      }
    }
  }

  /// Runs one query in the tenant's schema, with its role, retrying while the database
  /// restarts.
  func tenantQuery(_ sql: String) async throws -> PostgresRows {
    let scope = try TenantScope(tenantID: tenantID)
    var attempts = 0
    while true {
      do {
        return try await clusters.pool("main").withTenant(scope) { transaction in
          try transaction.query(sql)
        }
      } catch {
        attempts += 1
        guard attempts < 50 else { throw error }
        try await Task.sleep(for: .milliseconds(200))
      }
    }
  }

  /// One number from a query in the tenant's schema.
  func tenantCount(_ sql: String) async throws -> Int {
    Int(try await tenantQuery(sql).first?[0] ?? "") ?? -1
  }

  /// Waits until the tenant has no unfinished job, for at most `timeout`; returns whether it
  /// got there.
  func waitForQuietQueue(timeout: Duration) async throws -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
      let open = try await tenantCount(
        "SELECT count(*) FROM ingest_jobs WHERE state IN ('queued', 'running')")
      if open == 0 { return true }
      try await Task.sleep(for: .milliseconds(250))
    }
    return false
  }

  /// A small document whose text carries a word all share and a word of its own.
  static func document(_ number: Int) -> Kp_Ingest_V1_IngestDocument {
    IngestHarness.document(
      "doc-\(number)",
      "Resilient ingest document \(number) carries the marker \(token(number)).",
      title: "Document \(number)", source: "crash")
  }

  /// A word made of letters only, unique to a document number.
  static func token(_ number: Int) -> String {
    var value = number
    var letters = ""
    for _ in 0..<4 {
      letters.append(Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8(value % 26))))
      value /= 26
    }
    return "zq" + letters
  }

  /// Searches the knowledge store as the gateway.
  func search(_ query: String) async throws -> Kp_Knowledge_V1_SearchResponse {
    var request = Kp_Knowledge_V1_SearchRequest()
    request.query = query
    var options = IngestHarness.options(tenantID)
    options.metadata.add(MetadataKey.user, "u-reader")
    return try await knowledgeAsGateway.unary(
      Kp_Knowledge_V1_Knowledge.search, request, options: options)
  }

  /// The knowledge store's statistics.
  func stats() async throws -> Kp_Knowledge_V1_StatsResponse {
    try await knowledgeAsIngest.unary(
      Kp_Knowledge_V1_Knowledge.stats, Kp_Knowledge_V1_StatsRequest(),
      options: IngestHarness.options(tenantID))
  }
}
