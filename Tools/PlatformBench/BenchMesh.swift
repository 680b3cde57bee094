import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTLS
import KPTesting

/// The whole platform for a bench: kp-tenants, kp-auth, kp-knowledge, kp-ingest and
/// kp-gateway as release processes (built beside this tool) on a database of the bench's own,
/// on ephemeral loopback ports, talking mutual TLS with certificates from one bench CA; and
/// the bench's own channels for set-up (tenants, users, documents) and for calling kp-knowledge
/// directly as the gateway does.
final class BenchMesh: @unchecked Sendable {
  /// One tenant the bench made: a member in group `eng` and that user's access token.
  struct Tenant: Sendable {
    var id: String
    var slug: String
    var userID: String
    var token: String
    var groups: [String]
  }

  /// The plan the bench adds for tenants whose limit must not bind: a rate no run reaches.
  static let unlimitedPlan = "bench-unlimited"

  let serverURL: String
  let database: String
  let databaseURL: String
  let mesh: TestMesh
  let services: [String: ServiceProcess]
  let httpsPort: Int
  let tenantsChannel: RPCChannel
  let authChannel: RPCChannel
  /// kp-knowledge as the ingest service calls it, for loading documents.
  let ingestChannel: RPCChannel
  /// kp-knowledge as the gateway calls it, for the direct peer.
  let knowledgeChannel: RPCChannel
  private let adminToken: String

  /// The gateway's external RPC port.
  var rpcPort: Int { services["gateway"]?.port ?? 0 }
  /// The CA file every client trusts.
  var caPath: String { mesh.authority.certificatePath }

  private init(
    serverURL: String, database: String, databaseURL: String, mesh: TestMesh,
    services: [String: ServiceProcess], httpsPort: Int, adminToken: String
  ) throws {
    self.serverURL = serverURL
    self.database = database
    self.databaseURL = databaseURL
    self.mesh = mesh
    self.services = services
    self.httpsPort = httpsPort
    self.adminToken = adminToken
    func port(_ name: String) -> [Int] { [services[name]?.port ?? 0] }
    var configuration = RPCClientConfiguration()
    configuration.defaultTimeout = .seconds(120)
    tenantsChannel = try mesh.channel(
      from: "cli", to: "tenants", ports: port("tenants"), configuration: configuration)
    authChannel = try mesh.channel(
      from: "gateway", to: "auth", ports: port("auth"), configuration: configuration)
    ingestChannel = try mesh.channel(
      from: "ingest", to: "knowledge", ports: port("knowledge"), configuration: configuration)
    var direct = RPCClientConfiguration()
    direct.defaultTimeout = .seconds(10)
    knowledgeChannel = try mesh.channel(
      from: "gateway", to: "knowledge", ports: port("knowledge"), configuration: direct)
  }

  /// Makes the database, starts every service on it with its default settings (the gateway's
  /// caches and limits, each service's pool of 10 connections, info logs), and signs in the
  /// platform administrator.
  static func start(serverURL: String, database: String) async throws -> BenchMesh {
    let admin = try PostgresConnection.connect(url: serverURL, applicationName: "kp-bench")
    try admin.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
    try admin.execute("CREATE DATABASE \(database)")
    admin.close()
    let databaseURL = PostgresFixture.databaseURL(serverURL, database: database)
    let mesh = try TestMesh(name: "kp-bench-ca")

    let platform = try await PlatformProcesses.start(
      mesh: mesh, databaseURL: databaseURL, quick: false)
    do {
      let started = platform.services
      let https = platform.httpsPort
      let authPort = started["auth"]?.port ?? 0

      let channel = try mesh.channel(from: "gateway", to: "auth", ports: [authPort])
      defer { channel.close() }
      var login = Kp_Auth_V1_LoginRequest()
      login.email = PlatformProcesses.adminEmail
      login.password = PlatformProcesses.adminPassword
      let token = try await channel.unary(Kp_Auth_V1_Auth.login, login).tokens?.accessToken
      guard let token, !token.isEmpty else {
        throw BenchError("the platform administrator could not sign in")
      }
      let result = try BenchMesh(
        serverURL: serverURL, database: database, databaseURL: databaseURL, mesh: mesh,
        services: started, httpsPort: https, adminToken: token)
      try result.addUnlimitedPlan()
      return result
    } catch {
      platform.stop()
      throw error
    }
  }

  /// A connection to the bench's database, as the superuser the server URL names.
  func connection(name: String) throws -> PostgresConnection {
    try PostgresConnection.connect(url: databaseURL, applicationName: name)
  }

  /// Adds ``unlimitedPlan`` to the registry kp-tenants installed.
  private func addUnlimitedPlan() throws {
    let connection = try connection(name: "kp-bench-plans")
    defer { connection.close() }
    try connection.execute(
      """
      INSERT INTO kp_registry.plans (id, display_name, requests_per_second, burst, max_documents,
        max_stored_bytes, max_document_bytes)
      SELECT '\(Self.unlimitedPlan)', 'Bench, no binding limit', 1000000, 1000000,
        max_documents, max_stored_bytes, max_document_bytes
      FROM kp_registry.plans WHERE id = 'enterprise'
      ON CONFLICT (id) DO NOTHING
      """)
  }

  /// Creates a tenant on a plan, a member in group `eng`, and signs the member in.
  func makeTenant(slug: String, plan: String) async throws -> Tenant {
    var create = Kp_Tenants_V1_CreateTenantRequest()
    create.slug = slug
    create.displayName = slug
    create.planId = plan
    guard
      let id = try await tenantsChannel.unary(Kp_Tenants_V1_Tenants.createTenant, create).tenant?
        .id
    else { throw BenchError("kp-tenants created \(slug) without answering the tenant") }

    var options = CallOptions()
    options.metadata.add(MetadataKey.authorization, "Bearer " + adminToken)
    var group = Kp_Auth_V1_CreateGroupRequest()
    group.tenantId = id
    group.name = "eng"
    _ = try await authChannel.unary(Kp_Auth_V1_Auth.createGroup, group, options: options)
    var user = Kp_Auth_V1_CreateUserRequest()
    user.tenantId = id
    user.email = "reader@\(slug).example"
    user.role = .member
    user.groups = ["eng"]
    user.password = "bench reader password"
    let userID =
      try await authChannel.unary(Kp_Auth_V1_Auth.createUser, user, options: options).user?.id
      ?? ""

    var login = Kp_Auth_V1_LoginRequest()
    login.tenantSlug = slug
    login.email = user.email
    login.password = user.password
    let token = try await authChannel.unary(Kp_Auth_V1_Auth.login, login).tokens?.accessToken
    guard let token, !token.isEmpty, !userID.isEmpty else {
      throw BenchError("the reader of \(slug) could not be made or sign in")
    }
    return Tenant(id: id, slug: slug, userID: userID, token: token, groups: ["eng"])
  }

  /// Loads documents into a tenant with UpsertDocuments, as the ingest workers hand them to
  /// kp-knowledge: batches of 50, two calls at a time. Returns the seconds taken.
  func load(_ documents: [Kp_Knowledge_V1_Document], into tenant: Tenant) async throws -> Double {
    let started = ContinuousClock.now
    var options = CallOptions()
    options.metadata.add(MetadataKey.tenant, tenant.id)
    let callOptions = options
    let batches = stride(from: 0, to: documents.count, by: 50).map { start in
      Array(documents[start..<min(start + 50, documents.count)])
    }
    let next = WorkCounter()
    let channel = ingestChannel
    try await withThrowingTaskGroup(of: Void.self) { group in
      for _ in 0..<2 {
        group.addTask {
          while true {
            let index = next.next()
            guard index < batches.count else { return }
            var request = Kp_Knowledge_V1_UpsertDocumentsRequest()
            request.documents = batches[index]
            _ = try await channel.unary(
              Kp_Knowledge_V1_Knowledge.upsertDocuments, request, options: callOptions)
          }
        }
      }
      try await group.waitForAll()
    }
    let connection = try tenantConnection(tenant, name: "kp-bench-analyze")
    defer { connection.close() }
    try connection.execute("RESET ROLE")
    try connection.execute("VACUUM ANALYZE chunks")
    try connection.execute("VACUUM ANALYZE documents")
    return Latency.seconds(since: started)
  }

  /// The call options the gateway sends kp-knowledge for a tenant's member.
  func directOptions(_ tenant: Tenant) -> CallOptions {
    var options = CallOptions(timeout: .seconds(10))
    options.metadata.add(MetadataKey.tenant, tenant.id)
    options.metadata.add(MetadataKey.user, tenant.userID)
    options.metadata.add("kp-groups", tenant.groups.joined(separator: ","))
    return options
  }

  /// A direct connection acting in a tenant's scope, as the service's transactions do.
  func tenantConnection(_ tenant: Tenant, name: String) throws -> PostgresConnection {
    let connection = try connection(name: name)
    try connection.execute(Self.scopeSQL(tenant))
    return connection
  }

  /// The statements that put a session in a tenant's scope.
  static func scopeSQL(_ tenant: Tenant) throws -> String {
    let scope = try TenantScope(tenantID: tenant.id)
    return "SET ROLE \(scope.role.quoted); SET search_path TO \(scope.schema.quoted)"
  }

  /// A figure from a service's log: the gateway's per-request access log, for instance.
  func log(of service: String) -> String { services[service]?.log ?? "" }

  /// Stops every service, drops the database and the tenant roles the bench made.
  func stop(keepDatabase: Bool) {
    for channel in [tenantsChannel, authChannel, ingestChannel, knowledgeChannel] {
      channel.close()
    }
    for name in ["gateway", "ingest", "knowledge", "auth", "tenants"] {
      services[name]?.stop()
    }
    guard !keepDatabase,
      let admin = try? PostgresConnection.connect(url: serverURL, applicationName: "kp-bench")
    else { return }
    defer { admin.close() }
    var roles: [String] = []
    if let connection = try? connection(name: "kp-bench"),
      let rows = try? connection.query("SELECT id FROM kp_registry.tenants")
    {
      for row in rows {
        guard let id = row["id"] ?? nil, let scope = try? TenantScope(tenantID: id) else {
          continue
        }
        roles.append(scope.role.quoted)
      }
      connection.close()
    }
    _ = try? admin.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
    for role in roles { _ = try? admin.execute("DROP ROLE IF EXISTS \(role)") }
  }
}
