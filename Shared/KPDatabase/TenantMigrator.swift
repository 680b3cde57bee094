/// Creates, migrates and removes tenant schemas on a cluster, keeping the cluster's ledger
/// (`kp_cluster.tenant_schemas`) in the same transaction as each change.
///
/// Because the ledger row changes atomically with the schema, every operation can be repeated
/// after a crash: provisioning a tenant that exists does nothing, a migration a tenant already
/// has is skipped, and removing a tenant that is gone does nothing. Each tenant is worked on in
/// transactions of its own, so no transaction takes the locks of many schemas (PostgreSQL's
/// `max_locks_per_transaction` bounds that).
public struct TenantMigrator: Sendable {
  /// The migrations, in version order.
  public let migrations: [TenantMigration]

  /// How long a migration waits for a lock on a table busy with traffic before it fails and
  /// is retried. Default 5 seconds.
  public var lockTimeout: Duration = .seconds(5)

  /// How many times a migration that failed on a lock timeout is tried. Default 3.
  public var attempts = 3

  /// Makes a migrator.
  ///
  /// - Parameter migrations: Versions 1, 2, 3, … in order. Default ``TenantMigrations/all``.
  public init(migrations: [TenantMigration] = TenantMigrations.all) {
    precondition(
      migrations.enumerated().allSatisfy { $0.offset + 1 == $0.element.version },
      "tenant migrations must be numbered 1, 2, 3, … in order")
    self.migrations = migrations
  }

  /// The newest version known.
  public var latestVersion: Int { migrations.last?.version ?? 0 }

  /// Creates the tenant's role and schema and applies migrations up to `version`, recording
  /// the tenant in the ledger, inside `transaction`. Does nothing when the ledger already has
  /// the tenant.
  ///
  /// - Parameters:
  ///   - scope: The tenant's names.
  ///   - version: The version to provision at.
  ///   - transaction: A transaction on the tenant's cluster, not scoped to any tenant.
  /// - Returns: The tenant's schema version afterwards.
  /// - Throws: ``DatabaseError``.
  @discardableResult
  public func provision(
    _ scope: TenantScope, atVersion version: Int, in transaction: DatabaseTransaction
  ) throws(DatabaseError) -> Int {
    try lock(scope, transaction)
    if let existing = try ledgerVersion(scope, transaction, forUpdate: false) {
      return existing
    }

    // The role owns the schema and everything migrations create in it. The login role is made
    // a member so that it may SET ROLE to it; the tenant role itself is a member of nothing.
    let role = scope.role.quoted
    try transaction.execute(
      """
      CREATE ROLE \(role) NOLOGIN NOINHERIT;
      GRANT \(role) TO CURRENT_USER;
      CREATE SCHEMA \(scope.schema.quoted) AUTHORIZATION \(role);
      REVOKE ALL ON SCHEMA \(scope.schema.quoted) FROM PUBLIC;
      """)

    for migration in migrations.prefix(version) {
      try apply(migration, scope, transaction)
    }
    try transaction.query(
      """
      INSERT INTO kp_cluster.tenant_schemas (tenant_id, schema_name, role_name, schema_version)
      VALUES ($1, $2, $3, $4)
      """,
      [scope.tenantID, scope.schema.name, scope.role.name, "\(min(version, latestVersion))"])
    return min(version, latestVersion)
  }

  /// Drops the tenant's schema with everything in it and its role, and removes it from the
  /// ledger, inside `transaction`. Does nothing for a tenant that is not there.
  ///
  /// - Parameters:
  ///   - scope: The tenant's names.
  ///   - transaction: A transaction on the tenant's cluster, not scoped to any tenant.
  /// - Throws: ``DatabaseError``.
  public func deprovision(
    _ scope: TenantScope, in transaction: DatabaseTransaction
  ) throws(DatabaseError) {
    try lock(scope, transaction)
    try transaction.execute("DROP SCHEMA IF EXISTS \(scope.schema.quoted) CASCADE")
    let roles = try transaction.query(
      "SELECT 1 FROM pg_roles WHERE rolname = $1", [scope.role.name])
    if !roles.isEmpty {
      try transaction.execute(
        "DROP OWNED BY \(scope.role.quoted); DROP ROLE \(scope.role.quoted)")
    }
    try transaction.query(
      "DELETE FROM kp_cluster.tenant_schemas WHERE tenant_id = $1", [scope.tenantID])
  }

  /// Brings one tenant's schema to `version`, one migration per transaction, each recorded in
  /// the ledger in its own transaction. Safe to run again after an interruption and alongside
  /// another run: each migration is applied exactly once.
  ///
  /// - Parameters:
  ///   - scope: The tenant's names.
  ///   - version: The target version.
  ///   - pool: A pool on the tenant's cluster.
  /// - Returns: The tenant's version afterwards.
  /// - Throws: ``DatabaseError`` with code `tenantNotFound` when the cluster has no schema for
  ///   the tenant, or `migrationFailed` naming the version that failed.
  public func migrate(
    _ scope: TenantScope, to version: Int, pool: ConnectionPool
  ) async throws -> Int {
    let target = min(version, latestVersion)
    var current = try await pool.withConnection { connection in
      try connection.query(
        "SELECT schema_version FROM kp_cluster.tenant_schemas WHERE tenant_id = $1",
        [scope.tenantID]
      ).first.flatMap { $0[0] }.flatMap { Int($0) }
    }
    guard var reached = current else {
      throw DatabaseError(
        code: .tenantNotFound,
        message: "the cluster '\(pool.configuration.name)' holds no schema for tenant "
          + scope.tenantID)
    }

    while reached < target {
      let migration = migrations[reached]
      current = try await applyOnce(migration, scope, pool)
      reached = current ?? target
    }
    return reached
  }

  /// Applies one migration in its own transaction unless the ledger shows it applied, retrying
  /// lock timeouts. Returns the ledger's version afterwards.
  private func applyOnce(
    _ migration: TenantMigration, _ scope: TenantScope, _ pool: ConnectionPool
  ) async throws -> Int {
    var attempt = 1
    while true {
      do {
        return try await pool.withTransaction { transaction in
          guard let version = try ledgerVersion(scope, transaction, forUpdate: true) else {
            throw DatabaseError(
              code: .tenantNotFound, message: "tenant \(scope.tenantID) left the cluster")
          }
          guard version < migration.version else { return version }
          try apply(migration, scope, transaction)
          try transaction.query(
            """
            UPDATE kp_cluster.tenant_schemas SET schema_version = $2, migrated_at = now()
            WHERE tenant_id = $1
            """, [scope.tenantID, "\(migration.version)"])
          return migration.version
        }
      } catch let error as DatabaseError where error.sqlState == "55P03" && attempt < attempts {
        attempt += 1
      } catch let error as DatabaseError where error.code == .serverError {
        throw DatabaseError(
          code: .migrationFailed,
          message: "migration \(migration.version) (\(migration.summary)) failed for tenant "
            + "\(scope.tenantID): \(error.message)",
          sqlState: error.sqlState, detail: error.detail, hint: error.hint)
      }
    }
  }

  /// Runs a migration's SQL as the tenant's role in its schema, then returns to the login role
  /// within the same transaction.
  private func apply(
    _ migration: TenantMigration, _ scope: TenantScope, _ transaction: DatabaseTransaction
  ) throws(DatabaseError) {
    let milliseconds =
      lockTimeout.components.seconds * 1000
      + lockTimeout.components.attoseconds / 1_000_000_000_000_000
    try transaction.execute(
      """
      SET LOCAL lock_timeout = \(milliseconds);
      SET LOCAL ROLE \(scope.role.quoted);
      SET LOCAL search_path TO \(scope.schema.quoted)
      """)
    try transaction.execute(migration.sql)
    try transaction.execute(
      """
      SET LOCAL ROLE NONE;
      SET LOCAL search_path TO DEFAULT;
      SET LOCAL lock_timeout TO DEFAULT
      """)
  }

  /// Serialises work on one tenant across processes for the rest of the transaction.
  private func lock(
    _ scope: TenantScope, _ transaction: DatabaseTransaction
  ) throws(DatabaseError) {
    try transaction.query(
      "SELECT pg_advisory_xact_lock(hashtext('kp tenant ' || $1))", [scope.tenantID])
  }

  private func ledgerVersion(
    _ scope: TenantScope, _ transaction: DatabaseTransaction, forUpdate: Bool
  ) throws(DatabaseError) -> Int? {
    let rows = try transaction.query(
      "SELECT schema_version FROM kp_cluster.tenant_schemas WHERE tenant_id = $1"
        + (forUpdate ? " FOR UPDATE" : ""), [scope.tenantID])
    return rows.first.flatMap { $0[0] }.flatMap { Int($0) }
  }
}
