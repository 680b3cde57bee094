import KPDatabase
import KPProtocol
import KPRPC

/// One page of a claimed job on its way to the knowledge store.
///
/// Documents go in batch order. Consecutive upserts travel in one call (at most
/// ``IngestOptions/knowledgeBatchDocuments``, within ``IngestOptions/knowledgeRequestBytes``,
/// never the same document twice); consecutive deletes in another. Outcomes are recorded after
/// each call. Quotas are checked against the tenant's usage counters as if every upsert added a
/// document; a document that would pass a quota that way is sent only after what is before it
/// has been stored and the counters read again, and is then refused unless it replaces a stored
/// document within the quota.
struct JobPageRun {
  private typealias Outcome = IngestWorker.ItemOutcome

  /// The tenant's stored documents and bytes of text, as the quotas count them.
  struct Usage: Sendable {
    var documents: Int
    var bytes: Int
  }

  private let worker: IngestWorker
  private let job: ClaimedJob
  private var outcomes: [Outcome] = []
  private var upserts: [(ordinal: Int, prepared: DocumentPreparer.Prepared)] = []
  private var upsertKeys = Set<[String]>()
  private var upsertBytes = 0
  private var deletes: [(ordinal: Int, key: Kp_Knowledge_V1_ExternalKey)] = []
  private var usage: Usage?
  private let quotas: TenantQuotas

  /// Makes a run for a job's page.
  ///
  /// - Parameters:
  ///   - quotas: The tenant plan's quotas, read when the job was taken up.
  ///   - usage: The usage to count from instead of reading the tenant's counters, for a page
  ///     stored while the one before it is still in flight; nil reads the counters.
  init(
    worker: IngestWorker, job: ClaimedJob, quotas: TenantQuotas, countingFrom usage: Usage? = nil
  ) {
    self.worker = worker
    self.job = job
    self.quotas = quotas
    self.usage = usage
  }

  /// Sends the page's documents, normalised beforehand, and records their outcomes.
  mutating func process(_ page: IngestWorker.PreparedPage) async throws(JobFailure) {
    for (item, preparation) in zip(page.items, page.prepared) {
      guard let document = item.document, item.operation != "invalid" else {
        outcomes.append(
          Outcome(
            o: item.ordinal, outcome: "failed", code: "invalid_document",
            message: "the queued document cannot be read"))
        continue
      }
      if item.operation == "delete" {
        if !upserts.isEmpty { try await flush() }
        var key = Kp_Knowledge_V1_ExternalKey()
        key.source = document.source
        key.externalId = document.externalId
        deletes.append((item.ordinal, key))
        if deletes.count >= worker.options.knowledgeBatchDocuments { try await flush() }
        continue
      }
      if !deletes.isEmpty { try await flush() }
      guard let preparation else {
        outcomes.append(
          Outcome(
            o: item.ordinal, outcome: "failed", code: "invalid_document",
            message: "the queued operation '\(item.operation)' is unknown"))
        continue
      }
      switch preparation {
      case .failure(let refusal):
        outcomes.append(
          Outcome(o: item.ordinal, outcome: "failed", code: refusal.code, message: refusal.message))
      case .success(let prepared):
        let key = [document.source, document.externalId]
        if upsertKeys.contains(key) || upserts.count >= worker.options.knowledgeBatchDocuments
          || upsertBytes + prepared.wireBytes + 64 > worker.options.knowledgeRequestBytes
        {
          try await flush()
        }
        if let refusal = try await admit(prepared) {
          outcomes.append(
            Outcome(
              o: item.ordinal, outcome: "failed", code: refusal.code, message: refusal.message))
          continue
        }
        upserts.append((item.ordinal, prepared))
        upsertKeys.insert(key)
        upsertBytes += prepared.wireBytes + 8
      }
    }
    try await flush()
  }

  /// Sends what is gathered and records every outcome so far.
  private mutating func flush() async throws(JobFailure) {
    if !upserts.isEmpty {
      outcomes += try await send(upserts)
      upserts = []
      upsertKeys = []
      upsertBytes = 0
    }
    if !deletes.isEmpty {
      outcomes += try await delete(deletes)
      deletes = []
    }
    if !outcomes.isEmpty {
      try await worker.record(outcomes, for: job)
      outcomes = []
    }
  }

  // MARK: - Quotas

  /// Nil when the document may be stored within the tenant's quotas, else why not.
  private mutating func admit(
    _ prepared: DocumentPreparer.Prepared
  ) async throws(JobFailure) -> DocumentRefusal? {
    if usage == nil { usage = try await readUsage() }
    if takeAsNew(prepared.textBytes) { return nil }
    if !upserts.isEmpty || !deletes.isEmpty {
      try await flush()
      usage = try await readUsage()
      if takeAsNew(prepared.textBytes) { return nil }
    }

    let current = usage ?? Usage(documents: 0, bytes: 0)
    if let stored = try await storedBytes(of: prepared.document) {
      let added = prepared.textBytes - stored
      if added <= 0 || current.bytes + added <= quotas.maximumStoredBytes {
        usage?.bytes += added
        return nil
      }
      return bytesRefusal(current, added: added)
    }
    if current.documents + 1 > quotas.maximumDocuments {
      return DocumentRefusal(
        "quota_exceeded",
        "the tenant's plan allows \(quotas.maximumDocuments) documents (quota max_documents) "
          + "and \(current.documents) are stored; delete documents or move to a larger plan")
    }
    return bytesRefusal(current, added: prepared.textBytes)
  }

  /// Counts the document as new when that keeps within both quotas.
  private mutating func takeAsNew(_ bytes: Int) -> Bool {
    guard let current = usage, current.documents + 1 <= quotas.maximumDocuments,
      current.bytes + bytes <= quotas.maximumStoredBytes
    else { return false }
    usage = Usage(documents: current.documents + 1, bytes: current.bytes + bytes)
    return true
  }

  private func bytesRefusal(_ current: Usage, added: Int) -> DocumentRefusal {
    DocumentRefusal(
      "quota_exceeded",
      "storing the document would add \(added) bytes of text to the \(current.bytes) stored, "
        + "over the \(quotas.maximumStoredBytes) bytes the tenant's plan allows "
        + "(quota max_stored_bytes); delete documents or move to a larger plan")
  }

  /// The tenant's usage counters, as the knowledge store keeps them.
  private func readUsage() async throws(JobFailure) -> Usage {
    try await Self.readUsage(worker: worker, job: job)
  }

  /// The usage counters of the job's tenant, as the knowledge store keeps them.
  static func readUsage(worker: IngestWorker, job: ClaimedJob) async throws(JobFailure) -> Usage {
    let rows = try await worker.inTenant(job.tenantID) { transaction in
      try transaction.query("SELECT name, value FROM usage_counters")
    }
    var usage = Usage(documents: 0, bytes: 0)
    for row in rows {
      let value = Int(row["value"] ?? "") ?? 0
      if row["name"] == "documents" { usage.documents = value }
      if row["name"] == "stored_bytes" { usage.bytes = value }
    }
    return usage
  }

  /// The text bytes the store holds for the document; nil when it holds none.
  private func storedBytes(
    of document: Kp_Knowledge_V1_Document
  ) async throws(JobFailure) -> Int? {
    var request = Kp_Knowledge_V1_GetDocumentRequest()
    var key = Kp_Knowledge_V1_ExternalKey()
    key.source = document.source
    key.externalId = document.externalId
    request.key = .external(key)
    do {
      let response = try await worker.knowledge.unary(
        Kp_Knowledge_V1_Knowledge.getDocument, request,
        options: worker.knowledgeOptions(job.tenantID))
      return response.document?.text.utf8.count ?? 0
    } catch {
      if error.code == .notFound { return nil }
      throw failure(error)
    }
  }

  // MARK: - Calls to the knowledge store

  /// Upserts documents; when the store refuses the call, each document is sent alone so that
  /// only the one at fault is refused.
  private func send(
    _ batch: [(ordinal: Int, prepared: DocumentPreparer.Prepared)]
  ) async throws(JobFailure) -> [Outcome] {
    var request = Kp_Knowledge_V1_UpsertDocumentsRequest()
    request.documents = batch.map(\.prepared.document)
    let results: [Kp_Knowledge_V1_UpsertResult]
    do {
      results = try await worker.knowledge.unary(
        Kp_Knowledge_V1_Knowledge.upsertDocuments, request,
        options: worker.knowledgeOptions(job.tenantID)
      ).results
    } catch {
      guard error.code == .invalidArgument else { throw failure(error) }
      guard batch.count > 1 else {
        return [
          Outcome(o: batch[0].ordinal, outcome: "failed", code: "rejected", message: error.message)
        ]
      }
      var outcomes: [Outcome] = []
      for item in batch { outcomes += try await send([item]) }
      return outcomes
    }
    guard results.count == batch.count else {
      throw JobFailure(
        .retry,
        "the knowledge store answered \(results.count) results for \(batch.count) documents")
    }
    return zip(batch, results).map { item, result in
      Outcome(o: item.ordinal, outcome: result.changed ? "stored" : "unchanged")
    }
  }

  /// Deletes documents by source and external id; one the store does not hold is skipped.
  private func delete(
    _ batch: [(ordinal: Int, key: Kp_Knowledge_V1_ExternalKey)]
  ) async throws(JobFailure) -> [Outcome] {
    var request = Kp_Knowledge_V1_DeleteDocumentsRequest()
    request.external = batch.map(\.key)
    do {
      _ = try await worker.knowledge.unary(
        Kp_Knowledge_V1_Knowledge.deleteDocuments, request,
        options: worker.knowledgeOptions(job.tenantID))
    } catch {
      guard error.code == .invalidArgument else { throw failure(error) }
      return batch.map {
        Outcome(o: $0.ordinal, outcome: "failed", code: "rejected", message: error.message)
      }
    }
    return batch.map { Outcome(o: $0.ordinal, outcome: "deleted") }
  }

  /// The failure of an attempt for an error of the knowledge store.
  private func failure(_ error: RPCError) -> JobFailure {
    if Task.isCancelled || error.code == .cancelled {
      return JobFailure(.cancelled, "the worker is shutting down")
    }
    return JobFailure(
      .retry, "the knowledge store failed (\(error.code)): \(error.message.prefix(300))")
  }
}
