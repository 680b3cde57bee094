import KPDatabase
import KPTesting
import Synchronization
import Testing

@Suite("Tenant schema migrations")
struct TenantMigratorTests {
  /// Three migrations; the third records itself in a table whose primary key would refuse a
  /// second application.
  private static let migrations: [TenantMigration] = [
    TenantMigration(
      version: 1, owner: "test", summary: "notes",
      sql: "CREATE TABLE notes (id int PRIMARY KEY, body text)"),
    TenantMigration(
      version: 2, owner: "test", summary: "applied log",
      sql: "CREATE TABLE applied (version int PRIMARY KEY)"),
    TenantMigration(
      version: 3, owner: "test", summary: "notes gain a title",
      sql: "ALTER TABLE notes ADD COLUMN title text; INSERT INTO applied VALUES (3)"),
  ]

  @Test("a run interrupted for some tenants resumes: each migrated exactly once, none skipped")
  func resumesAfterInterruption() async throws {
    try await PostgresFixture.withDatabase { url in
      var configuration = ConnectionPoolConfiguration(url: url)
      configuration.maximumConnections = 4
      let pool = ConnectionPool(configuration: configuration)
      defer { pool.close() }
      try await RegistrySchema.installLedger(on: pool)
      let migrator = {
        var migrator = TenantMigrator(migrations: Self.migrations)
        migrator.lockTimeout = .milliseconds(200)
        migrator.attempts = 1
        return migrator
      }()

      var scopes: [TenantScope] = []
      for _ in 0..<12 {
        let scope = try TenantScope(tenantID: TenantScope.newTenantID())
        try await pool.withTransaction { try migrator.provision(scope, atVersion: 2, in: $0) }
        scopes.append(scope)
      }
      let targets = scopes.map { TenantMigrator.Target(scope: $0, pool: pool) }

      // Interrupt: traffic holds a lock on three tenants' tables for the whole first run.
      let blocker = try PostgresConnection.connect(url: url)
      defer { blocker.close() }
      try blocker.execute("BEGIN")
      for scope in scopes.prefix(3) {
        try blocker.execute("LOCK TABLE \(scope.schema.quoted).notes IN ACCESS EXCLUSIVE MODE")
      }
      let reports = Mutex<[TenantMigrationProgress]>([])
      let first = await migrator.migrateAll(targets, to: 3, concurrency: 3) { report in
        reports.withLock { $0.append(report) }
      }
      #expect(first.done)
      #expect(first.migratedTenants == 9)
      #expect(first.failedTenants == 3)
      #expect(reports.withLock { $0.count } == 12)
      try blocker.execute("ROLLBACK")

      let second = await migrator.migrateAll(targets, to: 3, concurrency: 3) { _ in }
      #expect(second.migratedTenants == 12)
      #expect(second.failedTenants == 0)

      for scope in scopes {
        let applied = try await pool.withTenant(scope) {
          try $0.query("SELECT count(*) FROM applied")
        }
        #expect(applied[0][0] == "1")
      }
      let versions = try await pool.withConnection {
        try $0.query("SELECT DISTINCT schema_version FROM kp_cluster.tenant_schemas")
      }
      #expect(versions.map { $0[0] } == ["3"])

      for scope in scopes {
        try await pool.withTransaction { try migrator.deprovision(scope, in: $0) }
      }
    }
  }

  @Test("deprovisioning leaves no schema, role or ledger row, and can be repeated")
  func deprovisionLeavesNothing() async throws {
    try await PostgresFixture.withDatabase { url in
      let pool = ConnectionPool(configuration: ConnectionPoolConfiguration(url: url))
      defer { pool.close() }
      try await RegistrySchema.installLedger(on: pool)
      let migrator = TenantMigrator()
      let scope = try TenantScope(tenantID: TenantScope.newTenantID())
      try await pool.withTransaction { try migrator.provision(scope, atVersion: 2, in: $0) }
      try await pool.withTransaction { try migrator.provision(scope, atVersion: 2, in: $0) }

      try await pool.withTransaction { try migrator.deprovision(scope, in: $0) }
      try await pool.withTransaction { try migrator.deprovision(scope, in: $0) }

      let left = try await pool.withConnection { connection in
        try connection.query(
          """
          SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = $1)
            + (SELECT count(*) FROM pg_roles WHERE rolname = $2)
            + (SELECT count(*) FROM kp_cluster.tenant_schemas WHERE tenant_id = $3)
          """, [scope.schema.name, scope.role.name, scope.tenantID])
      }
      #expect(left[0][0] == "0")
    }
  }

  @Test("the shared migration list is numbered 1, 2, 3, … and provisions cleanly")
  func sharedListProvisions() async throws {
    #expect(TenantMigrations.all.enumerated().allSatisfy { $0.offset + 1 == $0.element.version })
    try await PostgresFixture.withDatabase { url in
      let pool = ConnectionPool(configuration: ConnectionPoolConfiguration(url: url))
      defer { pool.close() }
      try await RegistrySchema.installLedger(on: pool)
      let migrator = TenantMigrator()
      let scope = try TenantScope(tenantID: TenantScope.newTenantID())
      let version = try await pool.withTransaction {
        try migrator.provision(scope, atVersion: migrator.latestVersion, in: $0)
      }
      #expect(version == TenantMigrations.latestVersion)
      let owners = try await pool.withConnection { connection in
        try connection.query(
          "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = $1", [scope.schema.name])
      }
      #expect(owners.map { $0[0] } == [scope.role.name])
      try await pool.withTransaction { try migrator.deprovision(scope, in: $0) }
    }
  }
}
