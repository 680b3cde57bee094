import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTLS
import KPTesting

/// A `kp-tenants` child process on fresh databases, reached over mutual TLS as the `cli`.
final class TenantsHarness: @unchecked Sendable {
  let mesh: TestMesh
  let certificates: String
  /// The clusters as `name=url` pairs; the first holds the registry.
  let clusters: [DatabaseClusters.Cluster]
  let extraArguments: [String]
  private(set) var process: ServiceProcess
  private(set) var channel: RPCChannel

  private init(
    mesh: TestMesh, certificates: String, clusters: [DatabaseClusters.Cluster],
    extraArguments: [String], process: ServiceProcess, channel: RPCChannel
  ) {
    self.mesh = mesh
    self.certificates = certificates
    self.clusters = clusters
    self.extraArguments = extraArguments
    self.process = process
    self.channel = channel
  }

  /// The registry cluster's database URL.
  var registryURL: String { clusters[0].url }

  /// Runs `body` against a service on a fresh database of the first server (and of the second
  /// when `twoClusters`), then stops it and removes every tenant role it made.
  static func with(
    twoClusters: Bool = false, arguments: [String] = [],
    _ body: (TenantsHarness) async throws -> Void
  ) async throws {
    try await PostgresFixture.withDatabase { first in
      if twoClusters {
        try await PostgresFixture.withSecondDatabase { second in
          try await run(
            [.init(name: "main", url: first), .init(name: "second", url: second)], arguments,
            body)
        }
      } else {
        try await run([.init(name: "main", url: first)], arguments, body)
      }
    }
  }

  private static func run(
    _ clusters: [DatabaseClusters.Cluster], _ arguments: [String],
    _ body: (TenantsHarness) async throws -> Void
  ) async throws {
    TLSRuntime.ignoreSIGPIPE()
    let mesh = try TestMesh()
    let certificates = try mesh.certificatesDirectory(for: "tenants")
    let process = try await start(certificates, clusters, arguments)
    let harness = TenantsHarness(
      mesh: mesh, certificates: certificates, clusters: clusters, extraArguments: arguments,
      process: process, channel: try channel(mesh, process.port))
    defer {
      harness.channel.close()
      harness.process.stop()
      for cluster in clusters { dropTenantRoles(cluster.url) }
    }
    try await body(harness)
  }

  /// The command-line arguments for the clusters.
  static func arguments(
    _ certificates: String, _ clusters: [DatabaseClusters.Cluster]
  ) -> [String] {
    [
      "--certs-dir", certificates, "--listen-address", "127.0.0.1:0",
      "--metrics-address", "127.0.0.1:0",
      "--database-clusters", clusters.map { "\($0.name)=\($0.url)" }.joined(separator: ","),
    ]
  }

  private static func start(
    _ certificates: String, _ clusters: [DatabaseClusters.Cluster], _ extra: [String]
  ) async throws -> ServiceProcess {
    try await ServiceProcess.start(
      "kp-tenants", arguments: arguments(certificates, clusters) + extra)
  }

  private static func channel(_ mesh: TestMesh, _ port: Int) throws -> RPCChannel {
    var configuration = RPCClientConfiguration()
    configuration.defaultTimeout = .seconds(120)
    configuration.retry.maximumAttempts = 1
    return try mesh.channel(from: "cli", to: "tenants", ports: [port], configuration: configuration)
  }

  /// A channel calling as another mesh identity.
  func channel(as caller: String) throws -> RPCChannel {
    try mesh.channel(from: caller, to: "tenants", ports: [process.port])
  }

  /// Starts the service again, after a kill or a stop.
  func restart(arguments: [String]? = nil) async throws {
    channel.close()
    process.stop()
    process = try await Self.start(certificates, clusters, arguments ?? extraArguments)
    channel = try Self.channel(mesh, process.port)
  }

  /// Kills the service with SIGKILL.
  func kill() {
    process.kill(SIGKILL)
  }

  /// Runs `kp-tenants migrate` against the same clusters as a child process.
  func migrateProcess(arguments: [String] = []) async throws -> ServiceProcess {
    try await ServiceProcess.start(
      "kp-tenants",
      arguments: Self.arguments(certificates, clusters) + arguments + ["migrate"],
      waitForServing: false)
  }

  // MARK: - Calls

  func create(
    _ slug: String, name: String = "Acme Corp", plan: String = "team", cluster: String = "",
    metadata: Metadata = Metadata()
  ) async throws -> Kp_Tenants_V1_Tenant {
    var request = Kp_Tenants_V1_CreateTenantRequest()
    request.slug = slug
    request.displayName = name
    request.planId = plan
    request.cluster = cluster
    let response = try await channel.unary(
      Kp_Tenants_V1_Tenants.createTenant, request, options: CallOptions(metadata: metadata))
    return response.tenant ?? Kp_Tenants_V1_Tenant()
  }

  func get(
    id: String, usage: Bool = false, metadata: Metadata = Metadata()
  ) async throws -> Kp_Tenants_V1_GetTenantResponse {
    var request = Kp_Tenants_V1_GetTenantRequest()
    request.key = .id(id)
    request.includeUsage = usage
    return try await channel.unary(
      Kp_Tenants_V1_Tenants.getTenant, request, options: CallOptions(metadata: metadata))
  }

  // MARK: - Database inspection

  /// Runs one query on a cluster's database.
  func query(
    _ sql: String, _ parameters: [String?] = [], cluster: Int = 0
  ) throws -> PostgresRows {
    let connection = try PostgresConnection.connect(url: clusters[cluster].url)
    defer { connection.close() }
    return try connection.query(sql, parameters)
  }

  /// A single value as text.
  func value(_ sql: String, _ parameters: [String?] = [], cluster: Int = 0) throws -> String? {
    try query(sql, parameters, cluster: cluster).first?[0]
  }

  /// Tenant schemas in a cluster's database.
  func tenantSchemas(cluster: Int = 0) throws -> Set<String> {
    Set(
      try query(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'", cluster: cluster
      ).compactMap { $0[0] })
  }

  /// Whether the role of a tenant exists (roles belong to the whole server).
  func roleExists(_ tenantID: String, cluster: Int = 0) throws -> Bool {
    try value(
      "SELECT count(*) FROM pg_roles WHERE rolname = $1", ["kp_" + tenantID], cluster: cluster)
      == "1"
  }

  /// Drops the roles of the tenants a database's ledger lists (roles outlive the database).
  private static func dropTenantRoles(_ url: String) {
    guard let connection = try? PostgresConnection.connect(url: url) else { return }
    defer { connection.close() }
    let roles =
      (try? connection.query("SELECT role_name FROM kp_cluster.tenant_schemas"))?.compactMap {
        $0[0]
      } ?? []
    for role in roles where SQLIdentifier.isValid(role) {
      _ = try? connection.execute("DROP OWNED BY \"\(role)\" CASCADE; DROP ROLE \"\(role)\"")
    }
  }
}
