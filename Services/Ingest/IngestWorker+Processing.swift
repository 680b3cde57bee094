import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTokens

extension IngestWorker {
  /// Documents read from the queue at a time. While one page goes to the knowledge store, the
  /// next is read and normalised, so the two overlap.
  static let pageSize = 50

  /// One queued document of a page.
  struct PendingItem: Sendable {
    var ordinal: Int
    var operation: String
    var source: String
    var externalID: String
    var document: Kp_Ingest_V1_IngestDocument?
  }

  /// A page of pending documents with each upsert already normalised and chunked (nil for a
  /// delete or an unreadable item).
  struct PreparedPage: Sendable {
    var items: [PendingItem]
    var prepared: [Result<DocumentPreparer.Prepared, DocumentRefusal>?]
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
  /// Each page is read and prepared while the page before it is being stored.
  func process(_ job: ClaimedJob) async throws(JobFailure) {
    let limit = try await documentLimit(job)
    var page = try await preparedPage(job, after: -1, limit: limit)
    while let last = page.items.last {
      if Task.isCancelled { throw JobFailure(.cancelled, "the worker is shutting down") }
      async let upcoming = preparedPage(job, after: last.ordinal, limit: limit)
      var run = JobPageRun(worker: self, job: job)
      try await run.process(page)
      do {
        page = try await upcoming
      } catch let failure as JobFailure {
        throw failure
      } catch {
        throw JobFailure(.retry, "the next page could not be read: \(error)")
      }
    }
    try await finish(job)
  }

  /// The size limit the job's documents are held to, from configuration and the tenant's plan.
  private func documentLimit(_ job: ClaimedJob) async throws(JobFailure) -> DocumentLimit {
    let record: TenantRecord?
    do {
      record = try await databases.directory.record(for: job.tenantID)
    } catch {
      throw JobFailure(.retry, "the tenant registry cannot be read")
    }
    guard let record, record.state.hasData else {
      throw JobFailure(.leaseLost, "the tenant no longer exists")
    }
    return DocumentLimit.strictest(
      configured: options.maximumDocumentBytes, plan: record.quotas.maximumDocumentBytes)
      ?? DocumentLimit(bytes: options.maximumDocumentBytes, name: "ingest-max-document-bytes")
  }

  /// The next page after `after`, each upsert normalised and chunked.
  private func preparedPage(
    _ job: ClaimedJob, after: Int, limit: DocumentLimit
  ) async throws(JobFailure) -> PreparedPage {
    let items = try await loadPage(job, after: after)
    let prepared = items.map { item -> Result<DocumentPreparer.Prepared, DocumentRefusal>? in
      guard let document = item.document, item.operation == "upsert" else { return nil }
      return preparer.prepare(document, limit: limit)
    }
    return PreparedPage(items: items, prepared: prepared)
  }

  /// The next pending documents after `after`, in batch order.
  private func loadPage(_ job: ClaimedJob, after: Int) async throws(JobFailure) -> [PendingItem] {
    let rows = try await inTenant(job.tenantID) { transaction in
      try transaction.query(
        "SELECT ordinal, operation, source, external_id, encode(document, 'hex') AS d "
          + "FROM ingest_items WHERE job_id = $1 AND outcome = 'pending' AND ordinal > $2::integer "
          + "ORDER BY ordinal LIMIT $3::integer",
        [job.id, "\(after)", "\(Self.pageSize)"])
    }
    return rows.map { row in
      let bytes = row["d"].flatMap { Hex.decode($0) }
      return PendingItem(
        ordinal: Int(row["ordinal"] ?? "") ?? 0, operation: row["operation"] ?? "",
        source: row["source"] ?? "", externalID: row["external_id"] ?? "",
        document: bytes.flatMap { try? Kp_Ingest_V1_IngestDocument(serializedBytes: $0) })
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
