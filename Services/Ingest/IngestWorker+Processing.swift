import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTokens

extension IngestWorker {
  /// Documents read from the queue at a time. While one page goes to the knowledge store, the
  /// next is read and normalised, so the two overlap.
  static let pageSize = 50
  /// The first page of a job is smaller, so the overlap begins sooner.
  static let firstPageSize = 10

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

    /// The (source, external id) of every document the page touches.
    var keys: Set<[String]> { Set(items.map { [$0.source, $0.externalID] }) }

    /// Whether every item is an upsert.
    var upsertsOnly: Bool { items.allSatisfy { $0.operation == "upsert" } }

    /// What the page adds to the quotas' counts if every document it stores is new.
    var addedIfNew: JobPageRun.Usage {
      var added = JobPageRun.Usage(documents: 0, bytes: 0)
      for case .success(let prepared) in prepared.compactMap({ $0 }) {
        added.documents += 1
        added.bytes += prepared.textBytes
      }
      return added
    }
  }

  /// A page being stored by a task of its own.
  private struct PageInFlight {
    var page: PreparedPage
    var task: Task<Void, any Error>

    /// Waits for the page's outcomes to be recorded; cancelling the waiter cancels the page.
    func finished() async throws(JobFailure) {
      let result = await withTaskCancellationHandler {
        await task.result
      } onCancel: { [task] in
        task.cancel()
      }
      switch result {
      case .success: return
      case .failure(let failure as JobFailure): throw failure
      case .failure(let error): throw JobFailure(.retry, "storing a page failed: \(error)")
      }
    }
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
  ///
  /// Each page is read and prepared while the page before it is being stored. A page of
  /// upserts may also be stored while the one before it still is, on a second connection of
  /// the knowledge store, when the two touch different documents and both fit the tenant's
  /// quotas even if every document in them were new; otherwise it waits. Each page records its
  /// own outcomes after the store answered, so a crash at any point leaves only documents whose
  /// outcome is not recorded, and those are sent again.
  func process(_ job: ClaimedJob) async throws(JobFailure) {
    let (limit, quotas) = try await limits(job)
    var page = try await preparedPage(job, after: -1, limit: limit, count: Self.firstPageSize)
    var previous: PageInFlight?
    do {
      while let last = page.items.last {
        if Task.isCancelled { throw JobFailure(.cancelled, "the worker is shutting down") }
        async let upcoming = preparedPage(
          job, after: last.ordinal, limit: limit, count: Self.pageSize)

        // At most two pages in flight: this one, beside the previous when it may go alongside.
        let usage = try await concurrentUsage(page, alongside: previous, job: job, quotas: quotas)
        let alongside = usage == nil ? nil : previous
        if usage == nil, let waiting = previous {
          previous = nil
          try await waiting.finished()
        }
        let current = page
        previous = PageInFlight(
          page: current,
          task: Task { [self] in
            var run = JobPageRun(worker: self, job: job, quotas: quotas, countingFrom: usage)
            try await run.process(current)
          })
        try await alongside?.finished()

        do {
          page = try await upcoming
        } catch let failure as JobFailure {
          throw failure
        } catch {
          throw JobFailure(.retry, "the next page could not be read: \(error)")
        }
      }
      if let waiting = previous {
        previous = nil
        try await waiting.finished()
      }
    } catch {
      if let waiting = previous {
        waiting.task.cancel()
        _ = await waiting.task.result
      }
      throw (error as? JobFailure) ?? JobFailure(.retry, "a page could not be processed: \(error)")
    }
    try await finish(job)
  }

  /// The usage a page may count from while `previous` is still being stored, or nil when the
  /// page must wait for it: either page deletes, they share a document, or the tenant's counters
  /// plus both pages (every document counted as new) would pass a quota.
  private func concurrentUsage(
    _ page: PreparedPage, alongside previous: PageInFlight?, job: ClaimedJob,
    quotas: TenantQuotas
  ) async throws(JobFailure) -> JobPageRun.Usage? {
    guard let previous, page.upsertsOnly, previous.page.upsertsOnly,
      page.keys.isDisjoint(with: previous.page.keys)
    else { return nil }
    let stored = try await JobPageRun.readUsage(worker: self, job: job)
    let before = previous.page.addedIfNew
    let added = page.addedIfNew
    // The counters may or may not include the page in flight yet: count it on top, to be safe.
    let counted = JobPageRun.Usage(
      documents: stored.documents + before.documents, bytes: stored.bytes + before.bytes)
    guard counted.documents + added.documents <= quotas.maximumDocuments,
      counted.bytes + added.bytes <= quotas.maximumStoredBytes
    else { return nil }
    return counted
  }

  /// The size limit the job's documents are held to, from configuration and the tenant's plan,
  /// and the plan's quotas.
  private func limits(
    _ job: ClaimedJob
  ) async throws(JobFailure) -> (DocumentLimit, TenantQuotas) {
    let record: TenantRecord?
    do {
      record = try await databases.directory.record(for: job.tenantID)
    } catch {
      throw JobFailure(.retry, "the tenant registry cannot be read")
    }
    guard let record, record.state.hasData else {
      throw JobFailure(.leaseLost, "the tenant no longer exists")
    }
    let limit =
      DocumentLimit.strictest(
        configured: options.maximumDocumentBytes, plan: record.quotas.maximumDocumentBytes)
      ?? DocumentLimit(bytes: options.maximumDocumentBytes, name: "ingest-max-document-bytes")
    return (limit, record.quotas)
  }

  /// The next page after `after`, each upsert normalised and chunked.
  private func preparedPage(
    _ job: ClaimedJob, after: Int, limit: DocumentLimit, count: Int
  ) async throws(JobFailure) -> PreparedPage {
    let items = try await loadPage(job, after: after, count: count)
    let prepared = items.map { item -> Result<DocumentPreparer.Prepared, DocumentRefusal>? in
      guard let document = item.document, item.operation == "upsert" else { return nil }
      return preparer.prepare(document, limit: limit)
    }
    return PreparedPage(items: items, prepared: prepared)
  }

  /// The next pending documents after `after`, in batch order.
  private func loadPage(
    _ job: ClaimedJob, after: Int, count: Int
  ) async throws(JobFailure) -> [PendingItem] {
    let rows = try await inTenant(job.tenantID) { transaction in
      try transaction.query(
        "SELECT ordinal, operation, source, external_id, encode(document, 'hex') AS d "
          + "FROM ingest_items WHERE job_id = $1 AND outcome = 'pending' AND ordinal > $2::integer "
          + "ORDER BY ordinal LIMIT $3::integer",
        [job.id, "\(after)", "\(count)"])
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
