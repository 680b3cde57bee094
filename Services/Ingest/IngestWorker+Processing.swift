import Foundation
import KPDatabase
import KPProtocol
import KPRPC

extension IngestWorker {
  /// Documents read from the queue at a time.
  static let pageSize = 100

  /// One queued document of a page.
  struct PendingItem: Sendable {
    var ordinal: Int
    var operation: String
    var source: String
    var externalID: String
    var document: Kp_Ingest_V1_IngestDocument?
  }

  /// What became of one document, as recorded in the queue.
  struct ItemOutcome: Encodable, Sendable {
    /// The document's place in the batch.
    var o: Int
    /// `stored`, `unchanged`, `deleted` or `failed`.
    var outcome: String
    var code = ""
    var message = ""
  }

  /// Works through a claimed job's pending documents, a page at a time, then marks it done.
  func process(_ job: ClaimedJob) async throws(JobFailure) {
    var after = -1
    while true {
      if Task.isCancelled { throw JobFailure(.cancelled, "the worker is shutting down") }
      let page = try await loadPage(job, after: after)
      guard let last = page.last else { break }
      var run = JobPageRun(worker: self, job: job)
      try await run.process(page)
      after = last.ordinal
    }
    try await finish(job)
  }

  /// The next pending documents after `after`, in batch order.
  private func loadPage(_ job: ClaimedJob, after: Int) async throws(JobFailure) -> [PendingItem] {
    let rows = try await inTenant(job.tenantID) { transaction in
      try transaction.query(
        "SELECT ordinal, operation, source, external_id, encode(document, 'base64') AS d "
          + "FROM ingest_items WHERE job_id = $1 AND outcome = 'pending' AND ordinal > $2::integer "
          + "ORDER BY ordinal LIMIT $3::integer",
        [job.id, "\(after)", "\(Self.pageSize)"])
    }
    return rows.map { row in
      let bytes = row["d"].flatMap { Data(base64Encoded: $0, options: .ignoreUnknownCharacters) }
      return PendingItem(
        ordinal: Int(row["ordinal"] ?? "") ?? 0, operation: row["operation"] ?? "",
        source: row["source"] ?? "", externalID: row["external_id"] ?? "",
        document: bytes.flatMap { try? Kp_Ingest_V1_IngestDocument(serializedBytes: [UInt8]($0)) })
    }
  }

  /// Records outcomes and renews the lease, in one transaction that holds only while this
  /// worker still holds the lease.
  func record(_ outcomes: [ItemOutcome], for job: ClaimedJob) async throws(JobFailure) {
    let owner = owner
    let lease =
      Int(options.lease.components.seconds * 1000)
      + Int(options.lease.components.attoseconds / 1_000_000_000_000_000)
    let json: String
    do {
      json = String(decoding: try JSONEncoder().encode(outcomes), as: UTF8.self)
    } catch {
      throw JobFailure(.retry, "the outcomes could not be encoded")
    }
    try await inTenant(job.tenantID) { transaction in
      let renewed = try transaction.query(
        "UPDATE ingest_jobs SET lease_expires_at = now() + $3::bigint * interval '1 millisecond' "
          + "WHERE id = $1 AND lease_owner = $2 AND state = 'running' RETURNING id",
        [job.id, owner, "\(lease)"])
      guard renewed.first != nil else {
        throw JobFailure(.leaseLost, "another worker took the job over")
      }
      guard !outcomes.isEmpty else { return }
      try transaction.query(
        "UPDATE ingest_items i SET outcome = u.outcome, error_code = u.code, "
          + "error_message = u.message, document = NULL "
          + "FROM jsonb_to_recordset($2::jsonb) AS u(o integer, outcome text, code text, "
          + "message text) WHERE i.job_id = $1 AND i.ordinal = u.o AND i.outcome = 'pending'",
        [job.id, json])
    }
  }

  /// Marks a job whose documents all have an outcome as finished, and drops it from the index.
  private func finish(_ job: ClaimedJob) async throws(JobFailure) {
    let owner = owner
    let finished = try await inTenant(job.tenantID) { transaction -> [String: String] in
      let rows = try transaction.query(
        "UPDATE ingest_jobs SET state = CASE WHEN EXISTS (SELECT 1 FROM ingest_items "
          + "WHERE job_id = $1 AND outcome = 'failed') THEN 'partially_failed' "
          + "ELSE 'succeeded' END, finished_at = now(), lease_owner = '', "
          + "lease_expires_at = NULL, last_error = '' "
          + "WHERE id = $1 AND lease_owner = $2 AND state = 'running' RETURNING state",
        [job.id, owner])
      guard let state = rows.first?["state"] ?? nil else {
        throw JobFailure(.leaseLost, "another worker took the job over")
      }
      var counts = ["state": state]
      for row in try transaction.query(
        "SELECT outcome, count(*) AS n FROM ingest_items WHERE job_id = $1 GROUP BY outcome",
        [job.id])
      {
        counts[row["outcome"] ?? ""] = row["n"] ?? "0"
      }
      return counts
    }
    logger.info(
      "job finished",
      [
        "tenant": job.tenantID, "job": job.id, "state": finished["state"] ?? "",
        "stored": finished["stored"] ?? "0", "unchanged": finished["unchanged"] ?? "0",
        "deleted": finished["deleted"] ?? "0", "failed": finished["failed"] ?? "0",
        "attempt": "\(job.attempt)",
      ])
    do {
      try await index.remove(tenantID: job.tenantID, jobIDs: [job.id])
      try await index.reschedule(tenantID: job.tenantID)
    } catch {
      // A row left behind is dropped when next seen.
      logger.warning("cannot update the pending-job index", ["error": "\(error)"])
    }
  }

  /// Call options for the knowledge store, for a tenant.
  func knowledgeOptions(_ tenantID: String) -> CallOptions {
    var callOptions = CallOptions(timeout: options.knowledgeTimeout)
    callOptions.metadata.add(MetadataKey.tenant, tenantID)
    return callOptions
  }
}
