import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTLS
import KPTesting
import KPTokens

@testable import Auth

/// A real kp-auth for one test: a fresh PostgreSQL database with the tenant registry, tenants
/// provisioned with every migration, the service on loopback over mutual TLS, and a channel
/// from the gateway's identity.
final class AuthHarness: Sendable {
  static let adminEmail = "root@platform.example"
  static let adminPassword = "platform-admin-password"

  let clusters: DatabaseClusters
  let keys: SigningKeyStore
  let service: AuthService
  let server: RPCServer
  let channel: RPCChannel
  let migrator = TenantMigrator()

  private init(
    url: String, mesh: TestMesh, throttles: LoginThrottles,
    password: PasswordHasher.Parameters
  ) async throws {
    clusters = try DatabaseClusters(clusters: [.init(name: "main", url: url)])
    try await RegistrySchema.installRegistry(on: clusters.registry)
    try await RegistrySchema.installLedger(on: clusters.registry)
    let hasher = try PasswordHasher(parameters: password)
    keys = SigningKeyStore(
      pool: clusters.registry, sealer: try KeySealer(key: try SecureRandom.bytes(32)))
    try await keys.install()
    try await keys.refresh()
    var options = AuthService.Options()
    options.platformAdmin = (
      EmailAddress.key(Self.adminEmail), try await hasher.hash(Self.adminPassword)
    )
    service = AuthService(
      databases: TenantDatabases(
        clusters: clusters,
        directory: TenantDirectory.registry(clusters.registry, maximumStaleness: .zero)),
      tenants: .registryTables(clusters.registry, maximumStaleness: .zero), keys: keys,
      hasher: hasher, throttles: throttles, options: options, logger: .disabled)
    server = try mesh.startServer(service: "auth", offering: [service])
    channel = try mesh.channel(from: "gateway", to: "auth", ports: [server.port])
  }

  /// Runs `body` with a harness on a fresh database, then stops everything.
  static func with(
    throttles: LoginThrottles = LoginThrottles(),
    password: PasswordHasher.Parameters = .init(memoryKiB: 1024, iterations: 1, parallelism: 1),
    _ body: (AuthHarness) async throws -> Void
  ) async throws {
    TLSRuntime.ignoreSIGPIPE()
    let mesh = try TestMesh()
    try await PostgresFixture.withDatabase { url in
      let harness = try await AuthHarness(
        url: url, mesh: mesh, throttles: throttles, password: password)
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
    channel.close()
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

  /// Sets a tenant's state in the registry, as kp-tenants would.
  func setState(_ tenantID: String, _ state: String) async throws {
    try await clusters.registry.withConnection { connection in
      try connection.query(
        "UPDATE kp_registry.tenants SET state = $2 WHERE id = $1", [tenantID, state])
    }
  }

  /// Call options carrying a bearer credential and a client address.
  func bearer(_ credential: String, source: String = "203.0.113.7") -> CallOptions {
    var options = CallOptions()
    options.metadata.add(MetadataKey.authorization, "Bearer " + credential)
    options.metadata.add(AuthService.clientAddressKey, source)
    return options
  }

  /// Signs in; throws the call's error on refusal.
  func login(
    _ slug: String, _ email: String, _ password: String, source: String = "203.0.113.7"
  ) async throws -> Kp_Auth_V1_LoginResponse {
    var request = Kp_Auth_V1_LoginRequest()
    request.tenantSlug = slug
    request.email = email
    request.password = password
    var options = CallOptions()
    options.metadata.add(AuthService.clientAddressKey, source)
    return try await channel.unary(Kp_Auth_V1_Auth.login, request, options: options)
  }

  /// The platform administrator's access token.
  func platformToken() async throws -> String {
    try await login("", Self.adminEmail, Self.adminPassword).tokens?.accessToken ?? ""
  }

  /// Creates a user as `actor`; returns the user.
  @discardableResult
  func createUser(
    as actor: String, tenantID: String = "", email: String, role: Kp_Auth_V1_Role,
    password: String = "correct horse battery", groups: [String] = []
  ) async throws -> Kp_Auth_V1_User {
    var request = Kp_Auth_V1_CreateUserRequest()
    request.tenantId = tenantID
    request.email = email
    request.role = role
    request.password = password
    request.groups = groups
    let response = try await channel.unary(
      Kp_Auth_V1_Auth.createUser, request, options: bearer(actor))
    return response.user ?? Kp_Auth_V1_User()
  }

  /// A tenant with an owner signed in: returns the tenant id and the owner's access token.
  func tenantWithOwner(_ slug: String) async throws -> (tenantID: String, token: String) {
    let tenantID = try await makeTenant(slug)
    try await createUser(
      as: try await platformToken(), tenantID: tenantID, email: "owner@\(slug).example",
      role: .owner)
    let login = try await login(slug, "owner@\(slug).example", "correct horse battery")
    return (tenantID, login.tokens?.accessToken ?? "")
  }

  /// The tenant's audit log, newest first, read as the platform administrator.
  func audit(_ tenantID: String) async throws -> [Kp_Auth_V1_AuditEvent] {
    var request = Kp_Auth_V1_ListAuditEventsRequest()
    request.tenantId = tenantID
    return try await channel.unary(
      Kp_Auth_V1_Auth.listAuditEvents, request, options: bearer(try await platformToken())
    ).events
  }
}
