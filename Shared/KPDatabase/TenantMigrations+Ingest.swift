extension TenantMigrations {
  /// Version 5, owned by ingest: the durable queue of submitted batches.
  ///
  /// `ingest_jobs` holds one row per accepted batch, unique by the caller's idempotency key,
  /// with its state, attempts, lease and last error. `ingest_items` holds each document of a
  /// batch in order, as received, until it is processed; then its content is dropped and only
  /// its outcome (and, for a refused document, the code and message) is kept.
  static let ingestQueue = TenantMigration(
    version: 5, owner: "ingest", summary: "the ingest queue: jobs and their documents",
    sql: """
      CREATE TABLE ingest_jobs (
        id text PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        idempotency_key text NOT NULL UNIQUE,
        request_hash bytea NOT NULL,
        state text NOT NULL DEFAULT 'queued'
          CHECK (state IN ('queued', 'running', 'succeeded', 'partially_failed', 'failed')),
        total integer NOT NULL CHECK (total >= 0),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_owner text NOT NULL DEFAULT '',
        lease_expires_at timestamptz,
        last_error text NOT NULL DEFAULT '',
        submitted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        started_at timestamptz,
        finished_at timestamptz
      );
      CREATE INDEX ingest_jobs_unfinished ON ingest_jobs (seq)
        WHERE state IN ('queued', 'running');
      CREATE TABLE ingest_items (
        job_id text NOT NULL REFERENCES ingest_jobs (id) ON DELETE CASCADE,
        ordinal integer NOT NULL CHECK (ordinal >= 0),
        operation text NOT NULL CHECK (operation IN ('upsert', 'delete', 'invalid')),
        source text NOT NULL DEFAULT '',
        external_id text NOT NULL DEFAULT '',
        document bytea,
        outcome text NOT NULL DEFAULT 'pending'
          CHECK (outcome IN ('pending', 'stored', 'unchanged', 'deleted', 'failed')),
        error_code text NOT NULL DEFAULT '',
        error_message text NOT NULL DEFAULT '',
        PRIMARY KEY (job_id, ordinal)
      );
      -- Documents stay in the queue only until they are stored; compressing them on the way in
      -- costs more than the space saved.
      ALTER TABLE ingest_items ALTER COLUMN document SET STORAGE EXTERNAL;
      """)
}
