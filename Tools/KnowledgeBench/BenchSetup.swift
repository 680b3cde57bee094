import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTLS
import KPTesting

/// What every knowledge bench stands on: a database of its own with the tenant registry, one
/// tenant provisioned with every migration, a real kp-knowledge process, and channels to it
/// with the gateway's and the ingest service's identities.
final class BenchSetup: Sendable {
  let serverURL: String
  let databaseURL: String
  let database: String
  let certificates: String
  let clusters: DatabaseClusters
  let tenantID: String
  let scope: TenantScope

  init(serverURL: String, database: String, certificates: String) async throws {
    self.serverURL = serverURL
    self.database = database
    self.certificates = certificates
    let admin = try PostgresConnection.connect(url: serverURL, applicationName: "kp-bench")
    try Self.dropDatabase(admin, database)
    try admin.execute("CREATE DATABASE \(database)")
    admin.close()
    databaseURL = PostgresFixture.databaseURL(serverURL, database: database)

    clusters = try DatabaseClusters(clusters: [.init(name: "main", url: databaseURL)])
    try await RegistrySchema.installRegistry(on: clusters.registry)
    try await RegistrySchema.installLedger(on: clusters.registry)
    tenantID = TenantScope.newTenantID()
    scope = try TenantScope(tenantID: tenantID)
    try await provision(tenantID, slug: "bench")
  }

  /// Adds an active tenant with every migration.
  func provision(_ id: String, slug: String) async throws {
    let scope = try TenantScope(tenantID: id)
    let migrator = TenantMigrator()
    try await clusters.registry.withTransaction { transaction in
      try transaction.query(
        "INSERT INTO kp_registry.tenants (id, slug, display_name, plan_id, state, cluster, "
          + "schema_version) VALUES ($1, $2, $2, 'team', 'active', 'main', $3)",
        [id, slug, String(migrator.latestVersion)])
      try migrator.provision(scope, atVersion: migrator.latestVersion, in: transaction)
    }
  }

  /// Starts a service of the package (built beside this tool) on the bench's database.
  func start(
    _ executable: String, service: String, pool: Int, extra: [String] = []
  ) async throws -> ServiceProcess {
    try await ServiceProcess.start(
      executable,
      arguments: [
        "--certs-dir", certificates, "--listen-address", "127.0.0.1:0",
        "--metrics-address", "127.0.0.1:0", "--database-url", databaseURL,
        "--database-pool-size", "\(pool)", "--log-level", "notice",
      ] + extra)
  }

  /// A channel to a service, presenting the certificate of `identity`.
  func channel(as identity: String, to service: String, port: Int) throws -> RPCChannel {
    let tls = try TLSContext(
      configuration: .meshClient(
        certificateChain: "\(certificates)/\(identity).pem",
        privateKey: "\(certificates)/\(identity).key",
        trustRoots: "\(certificates)/ca.pem"))
    var configuration = RPCClientConfiguration()
    configuration.defaultTimeout = .seconds(600)
    return RPCChannel(
      target: RPCTarget(
        endpoints: [SocketAddress(host: "127.0.0.1", port: port)],
        expectedIdentity: "spiffe://knowledgeplane/svc/\(service)"),
      tls: tls, configuration: configuration)
  }

  /// A direct connection acting in a tenant's scope for the whole session, as the service's
  /// transactions do for each request.
  func tenantConnection(_ name: String, tenant: String) throws -> PostgresConnection {
    let scope = try TenantScope(tenantID: tenant)
    let connection = try PostgresConnection.connect(url: databaseURL, applicationName: name)
    try connection.execute(
      "SET ROLE \(scope.role.quoted); SET search_path TO \(scope.schema.quoted)")
    return connection
  }

  /// Drops the database and the tenant roles the bench made.
  func tearDown() async {
    let ids =
      (try? await clusters.registry.withConnection { connection in
        try connection.query("SELECT id FROM kp_registry.tenants").compactMap { $0["id"] ?? nil }
      }) ?? []
    clusters.close()
    guard let admin = try? PostgresConnection.connect(url: serverURL, applicationName: "kp-bench")
    else { return }
    try? Self.dropDatabase(admin, database)
    for id in ids {
      guard let role = try? TenantScope(tenantID: id).role else { continue }
      _ = try? admin.execute("DROP ROLE IF EXISTS \(role.quoted)")
    }
    admin.close()
  }

  private static func dropDatabase(_ admin: PostgresConnection, _ name: String) throws {
    try admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
  }
}
