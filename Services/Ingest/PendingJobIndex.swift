import KPDatabase

/// The platform's index of pending ingest work: one row per unfinished job, holding the tenant
/// id, the job id and when the job is next due, and no content.
///
/// Workers read it to find tenants with due work without visiting every tenant's schema. A row
/// is added after the job's own transaction commits and before the submit is acknowledged, and
/// removed once the job is finished, so at worst a row outlives its job (it is then dropped when
/// seen) or is missing for a job whose submit failed (the client's retry adds it, and so does
/// the sweep of every tenant at start-up and at intervals). The table lives on the registry's
/// cluster in the schema `kp_ingest`, on which no tenant role has any privilege.
struct PendingJobIndex: Sendable {
  /// One tenant with due work.
  struct DueTenant: Sendable, Equatable {
    var tenantID: String
    /// The ids of the tenant's indexed jobs, due or not.
    var jobIDs: [String]
  }

  /// A pool on the registry's cluster.
  let pool: ConnectionPool

  private static let schemaSQL = """
    CREATE SCHEMA IF NOT EXISTS kp_ingest;
    REVOKE ALL ON SCHEMA kp_ingest FROM PUBLIC;
    CREATE TABLE IF NOT EXISTS kp_ingest.pending_jobs (
      tenant_id text NOT NULL,
      job_id text NOT NULL,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, job_id)
    );
    CREATE INDEX IF NOT EXISTS pending_jobs_due ON kp_ingest.pending_jobs (next_attempt_at);
    """

  /// Creates the table when missing. Safe to run concurrently and repeatedly.
  ///
  /// - Throws: ``DatabaseError``.
  func install() async throws {
    try await pool.withTransaction { transaction in
      try transaction.query("SELECT pg_advisory_xact_lock(hashtext('kp_ingest install'))")
      try transaction.execute(Self.schemaSQL)
    }
  }

  /// Records that a job waits, due now; nothing changes when it is already recorded.
  ///
  /// - Throws: ``DatabaseError``.
  func add(tenantID: String, jobIDs: [String]) async throws {
    guard !jobIDs.isEmpty else { return }
    try await pool.withConnection { connection in
      try connection.query(
        "INSERT INTO kp_ingest.pending_jobs (tenant_id, job_id) "
          + "SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
        [tenantID, Self.array(jobIDs)])
    }
  }

  /// Tenants with a job due now, the longest waiting first.
  ///
  /// - Parameter limit: The most tenants returned.
  /// - Throws: ``DatabaseError``.
  func due(limit: Int) async throws -> [DueTenant] {
    let rows = try await pool.withConnection { connection in
      try connection.query(
        "SELECT tenant_id, array_to_string(array_agg(job_id ORDER BY job_id), ',') AS jobs "
          + "FROM kp_ingest.pending_jobs GROUP BY tenant_id "
          + "HAVING min(next_attempt_at) <= now() ORDER BY min(next_attempt_at) LIMIT $1",
        ["\(limit)"])
    }
    return rows.map { row in
      DueTenant(
        tenantID: row["tenant_id"] ?? "",
        jobIDs: (row["jobs"] ?? "").split(separator: ",").map(String.init))
    }
  }

  /// Makes jobs of a tenant (all of them when `jobIDs` is nil) due at a time (microseconds
  /// since the Unix epoch), or now.
  ///
  /// - Throws: ``DatabaseError``.
  func reschedule(
    tenantID: String, jobIDs: [String]? = nil, atMicros micros: Int64? = nil
  ) async throws {
    try await pool.withConnection { connection in
      try connection.query(
        "UPDATE kp_ingest.pending_jobs SET next_attempt_at = COALESCE("
          + "'epoch'::timestamptz + $2::bigint * interval '1 microsecond', now()) "
          + "WHERE tenant_id = $1 AND ($3::text[] IS NULL OR job_id = ANY($3::text[]))",
        [tenantID, micros.map { "\($0)" }, jobIDs.map(Self.array)])
    }
  }

  /// Forgets jobs of a tenant, or every job of the tenant when `jobIDs` is nil.
  ///
  /// - Throws: ``DatabaseError``.
  func remove(tenantID: String, jobIDs: [String]?) async throws {
    try await pool.withConnection { connection in
      try connection.query(
        "DELETE FROM kp_ingest.pending_jobs WHERE tenant_id = $1 "
          + "AND ($2::text[] IS NULL OR job_id = ANY($2::text[]))",
        [tenantID, jobIDs.map(Self.array)])
    }
  }

  /// A `text[]` literal of job ids, which hold only letters and digits.
  static func array(_ ids: [String]) -> String {
    "{"
      + ids.filter { $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }.joined(
        separator: ",") + "}"
  }
}
