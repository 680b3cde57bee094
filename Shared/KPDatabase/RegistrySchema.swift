/// The tables of the tenant registry and of each cluster's ledger of tenant schemas.
///
/// - `kp_registry` (on the registry's cluster): plans with their quotas, and tenants with their
///   slug, plan, state, placement and schema version. A deleted tenant leaves a tombstone row;
///   its slug may then be taken again.
/// - `kp_cluster` (on every cluster): one row per tenant schema the cluster holds, with the
///   schema's migration version. The row changes in the same transaction as the schema, so it
///   is always true: it is what provisioning, migrations and deletion rely on to resume after a
///   crash. No tenant role has any privilege on either schema.
public enum RegistrySchema {
  /// The plans every registry starts with.
  public static let seededPlans: [(id: String, name: String, quotas: TenantQuotas)] = [
    (
      "free", "Free",
      TenantQuotas(
        requestsPerSecond: 5, burst: 10, maximumDocuments: 10_000,
        maximumStoredBytes: 100 << 20, maximumDocumentBytes: 1 << 20)
    ),
    (
      "team", "Team",
      TenantQuotas(
        requestsPerSecond: 50, burst: 100, maximumDocuments: 1_000_000,
        maximumStoredBytes: 10 << 30, maximumDocumentBytes: 10 << 20)
    ),
    (
      "enterprise", "Enterprise",
      TenantQuotas(
        requestsPerSecond: 500, burst: 1000, maximumDocuments: 100_000_000,
        maximumStoredBytes: 1 << 40, maximumDocumentBytes: 100 << 20)
    ),
  ]

  /// Creates the registry tables and seeds the plans, when missing. Safe to run concurrently
  /// and repeatedly.
  ///
  /// - Parameter pool: A pool on the registry's cluster.
  /// - Throws: ``DatabaseError``.
  public static func installRegistry(on pool: ConnectionPool) async throws {
    try await pool.withTransaction { transaction in
      try transaction.query("SELECT pg_advisory_xact_lock(hashtext('kp_registry install'))")
      try transaction.execute(registrySQL)
      for plan in seededPlans {
        try transaction.query(
          """
          INSERT INTO kp_registry.plans (id, display_name, requests_per_second, burst,
            max_documents, max_stored_bytes, max_document_bytes)
          VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING
          """,
          [
            plan.id, plan.name, "\(plan.quotas.requestsPerSecond)", "\(plan.quotas.burst)",
            "\(plan.quotas.maximumDocuments)", "\(plan.quotas.maximumStoredBytes)",
            "\(plan.quotas.maximumDocumentBytes)",
          ])
      }
    }
  }

  /// Creates a cluster's ledger of tenant schemas, when missing. Safe to run concurrently and
  /// repeatedly.
  ///
  /// - Parameter pool: A pool on the cluster.
  /// - Throws: ``DatabaseError``.
  public static func installLedger(on pool: ConnectionPool) async throws {
    try await pool.withTransaction { transaction in
      try transaction.query("SELECT pg_advisory_xact_lock(hashtext('kp_cluster install'))")
      try transaction.execute(ledgerSQL)
    }
  }

  private static let registrySQL = """
    CREATE SCHEMA IF NOT EXISTS kp_registry;
    REVOKE ALL ON SCHEMA kp_registry FROM PUBLIC;
    CREATE TABLE IF NOT EXISTS kp_registry.plans (
      id text PRIMARY KEY,
      display_name text NOT NULL,
      requests_per_second integer NOT NULL,
      burst integer NOT NULL,
      max_documents bigint NOT NULL,
      max_stored_bytes bigint NOT NULL,
      max_document_bytes bigint NOT NULL
    );
    CREATE TABLE IF NOT EXISTS kp_registry.tenants (
      id text PRIMARY KEY,
      slug text NOT NULL,
      display_name text NOT NULL,
      plan_id text NOT NULL REFERENCES kp_registry.plans (id),
      state text NOT NULL
        CHECK (state IN ('provisioning', 'active', 'suspended', 'deleting', 'deleted')),
      cluster text NOT NULL,
      schema_version integer NOT NULL DEFAULT 0,
      idempotency_key text NOT NULL DEFAULT '',
      suspended_reason text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      deleted_at timestamptz,
      override_requests_per_second integer,
      override_burst integer,
      override_max_documents bigint,
      override_max_stored_bytes bigint,
      override_max_document_bytes bigint
    );
    CREATE UNIQUE INDEX IF NOT EXISTS tenants_live_slug
      ON kp_registry.tenants (slug) WHERE state <> 'deleted';
    CREATE INDEX IF NOT EXISTS tenants_live_cluster
      ON kp_registry.tenants (cluster) WHERE state <> 'deleted';
    """

  private static let ledgerSQL = """
    CREATE SCHEMA IF NOT EXISTS kp_cluster;
    REVOKE ALL ON SCHEMA kp_cluster FROM PUBLIC;
    CREATE TABLE IF NOT EXISTS kp_cluster.tenant_schemas (
      tenant_id text PRIMARY KEY,
      schema_name text NOT NULL,
      role_name text NOT NULL,
      schema_version integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      migrated_at timestamptz NOT NULL DEFAULT now()
    );
    """
}
