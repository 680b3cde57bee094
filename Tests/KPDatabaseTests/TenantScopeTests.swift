import KPDatabase
import KPTesting
import Testing

/// Tenant-scoped access: role and search path set locally, isolation enforced by PostgreSQL.
@Suite("Tenant-scoped transactions")
struct TenantScopeTests {
  /// A database with the ledger and two provisioned tenants; both are removed afterwards,
  /// roles included (roles belong to the whole cluster, not the test's database).
  private func withTwoTenants(
    poolSize: Int = 1,
    _ body: (ConnectionPool, TenantScope, TenantScope) async throws -> Void
  ) async throws {
    try await PostgresFixture.withDatabase { url in
      var configuration = ConnectionPoolConfiguration(url: url)
      configuration.maximumConnections = poolSize
      let pool = ConnectionPool(configuration: configuration)
      defer { pool.close() }
      try await RegistrySchema.installLedger(on: pool)
      let migrator = TenantMigrator()
      let a = try TenantScope(tenantID: TenantScope.newTenantID())
      let b = try TenantScope(tenantID: TenantScope.newTenantID())
      for scope in [a, b] {
        try await pool.withTransaction { transaction in
          try migrator.provision(scope, atVersion: migrator.latestVersion, in: transaction)
        }
      }

      do {
        try await body(pool, a, b)
      } catch {
        try? await Self.remove([a, b], pool)
        throw error
      }
      try await Self.remove([a, b], pool)
    }
  }

  private static func remove(_ scopes: [TenantScope], _ pool: ConnectionPool) async throws {
    for scope in scopes {
      try await pool.withTransaction { try TenantMigrator().deprovision(scope, in: $0) }
    }
  }

  @Test("a query naming another tenant's schema is refused with SQLSTATE 42501")
  func crossSchemaRefused() async throws {
    try await withTwoTenants { pool, a, b in
      try await pool.withTenant(b) { transaction in
        try transaction.query("INSERT INTO settings (key, value) VALUES ('secret', $1)", ["b"])
      }

      let attempts = [
        "SELECT * FROM \(b.schema.quoted).settings",
        "UPDATE \(b.schema.quoted).settings SET value = 'a'",
        "CREATE TABLE \(b.schema.quoted).planted (id int)",
        "SELECT * FROM \(b.schema.quoted).usage_counters",
      ]
      for sql in attempts {
        do {
          try await pool.withTenant(a) { transaction in try transaction.execute(sql) }
          Issue.record("tenant A's scope ran: \(sql)")
        } catch let error as DatabaseError {
          #expect(error.sqlState == "42501", "\(sql): \(error)")
        }
      }

      // Pointing the search path at B's schema finds nothing there: it is invisible to A.
      do {
        try await pool.withTenant(a) { transaction in
          try transaction.execute("SET LOCAL search_path TO \(b.schema.quoted)")
          try transaction.query("SELECT * FROM settings")
        }
        Issue.record("tenant A's scope read B's settings through the search path")
      } catch let error as DatabaseError {
        #expect(error.sqlState == "42P01", "\(error)")
      }

      let own = try await pool.withTenant(a) { try $0.query("SELECT count(*) FROM settings") }
      #expect(own[0][0] == "0")
      let theirs = try await pool.withTenant(b) { try $0.query("SELECT value FROM settings") }
      #expect(theirs.map { $0[0] } == ["b"])
    }
  }

  @Test("role and search path end with the transaction: nothing carries over on the connection")
  func nothingCarriesOver() async throws {
    try await withTwoTenants { pool, a, _ in
      let inside = try await pool.withTenant(a) { transaction in
        try transaction.query("SELECT current_user, current_setting('search_path') AS path")[0]
      }
      #expect(inside["current_user"] == a.role.name)
      #expect(inside["path"] == a.schema.name)

      let after = try await pool.withConnection { connection in
        try connection.query("SELECT current_user, current_setting('search_path') AS path")[0]
      }
      #expect(after["current_user"] != a.role.name)
      #expect(after["path"] == "\"$user\", public")
    }
  }

  @Test("the pool replaces a connection after it worked for too many tenants")
  func recyclesAfterManyTenants() async throws {
    try await PostgresFixture.withDatabase { url in
      var configuration = ConnectionPoolConfiguration(url: url)
      configuration.maximumConnections = 1
      configuration.maximumTenantsPerConnection = 2
      let pool = ConnectionPool(configuration: configuration)
      defer { pool.close() }
      try await RegistrySchema.installLedger(on: pool)
      let migrator = TenantMigrator()
      var scopes: [TenantScope] = []
      for _ in 0..<4 {
        let scope = try TenantScope(tenantID: TenantScope.newTenantID())
        try await pool.withTransaction { try migrator.provision(scope, atVersion: 2, in: $0) }
        scopes.append(scope)
      }

      var backends: [String] = []
      for scope in scopes {
        let pid = try await pool.withTenant(scope) { try $0.query("SELECT pg_backend_pid()") }
        backends.append(pid[0][0] ?? "")
      }
      #expect(Set(backends).count >= 2)
      #expect(pool.statistics.retired >= 1)
      for scope in scopes {
        try await pool.withTransaction { try migrator.deprovision(scope, in: $0) }
      }
    }
  }

  @Test(
    "identifiers are checked before they reach SQL",
    arguments: [
      "", "Tenant", "1abc", "a\"b", "a;drop", "tenant-x", String(repeating: "a", count: 64),
    ]
  )
  func identifiers(name: String) {
    #expect(throws: DatabaseError(code: .invalidIdentifier, message: "")) {
      try SQLIdentifier(name)
    }
  }

  @Test("tenant ids are opaque, random and checked")
  func tenantIDs() throws {
    let id = TenantScope.newTenantID()
    #expect(TenantScope.isValidTenantID(id))
    #expect(id != TenantScope.newTenantID())
    let scope = try TenantScope(tenantID: id)
    #expect(scope.schema.name == "tenant_" + id)
    #expect(scope.role.name == "kp_" + id)
    #expect(throws: DatabaseError.self) { try TenantScope(tenantID: "acme") }
    #expect(throws: DatabaseError.self) { try TenantScope(tenantID: id.uppercased()) }
  }

  @Test("cluster lists are read as name=url pairs, and mistakes are named")
  func clusterLists() throws {
    let clusters = try DatabaseClusters.parse(
      "main=postgresql://kp@db1/kp?sslmode=require, second=postgresql://kp@db2/kp")
    #expect(clusters.map(\.name) == ["main", "second"])
    #expect(clusters[0].url == "postgresql://kp@db1/kp?sslmode=require")
    #expect(throws: DatabaseError.self) { try DatabaseClusters.parse("postgresql://db") }
    #expect(throws: DatabaseError.self) {
      try DatabaseClusters(clusters: [.init(name: "Main", url: "x")])
    }
    #expect(throws: DatabaseError.self) {
      try DatabaseClusters(clusters: [.init(name: "a", url: "x"), .init(name: "a", url: "y")])
    }
  }
}
