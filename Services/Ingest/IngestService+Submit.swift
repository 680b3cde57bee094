import Foundation
import KPDatabase
import KPDocuments
import KPProtocol
import KPRPC
import KPTokens

extension IngestService {
  /// What the submit transaction found or made.
  private enum Submitted: Sendable {
    case created
    case existing(id: String, sameBatch: Bool, unfinished: Bool)
  }

  /// Accepts a batch: checks its limits, commits it with its documents to the tenant's queue,
  /// indexes the job as pending, and only then answers with the job id.
  ///
  /// A submit whose idempotency key the tenant used before answers the first job with
  /// `duplicate` set (and indexes it again, in case the first submit failed after its commit).
  func submit(
    _ request: Kp_Ingest_V1_SubmitBatchRequest, _ context: ServerContext
  ) async throws(IngestError) -> Kp_Ingest_V1_SubmitBatchResponse {
    let tenantID = try Self.tenant(of: context)
    try checkLimits(request)
    let record = try await self.record(of: tenantID)
    guard record.state == .active else {
      throw IngestError(
        .failedPrecondition, "the tenant is \(record.state); it accepts no new documents")
    }

    var unkeyed = request
    unkeyed.idempotencyKey = ""
    let requestHash = Hex.encode(SHA256.digest(unkeyed.serializedBytes()))
    let items = request.documents.enumerated().map { ordinal, document in
      QueuedItem(
        ordinal: ordinal, document: document,
        refusal: refusal(of: document, planLimit: record.quotas.maximumDocumentBytes))
    }
    let upsertKeys = Set(
      request.documents.filter { $0.operation == .upsert }.map { [$0.source, $0.externalId] })
    let maximumDocuments = record.quotas.maximumDocuments
    guard upsertKeys.count <= maximumDocuments else {
      throw IngestError(
        .resourceExhausted,
        "the batch upserts \(upsertKeys.count) documents; the tenant's plan allows at most "
          + "\(maximumDocuments) documents (quota max_documents)")
    }
    let jobID: String
    do {
      jobID = "j" + (try SecureRandom.hex(16))
    } catch {
      throw IngestError(.internalFailure, "no random bytes for a job id")
    }
    let itemsJSON = String(decoding: try Self.encode(items), as: UTF8.self)
    let key = request.idempotencyKey
    let total = items.count

    let submitted = try await inTenant(tenantID) { transaction -> Submitted in
      if let found = try Self.existingJob(key, requestHash, in: transaction) { return found }
      let inserted = try transaction.query(
        "INSERT INTO ingest_jobs (id, idempotency_key, request_hash, total) "
          + "VALUES ($1, $2, decode($3, 'hex'), $4::integer) "
          + "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        [jobID, key, requestHash, "\(total)"])
      guard inserted.first != nil else {
        // A concurrent submit with the same key committed first.
        return try Self.existingJob(key, requestHash, in: transaction)
          ?? .existing(id: jobID, sameBatch: false, unfinished: false)
      }
      try transaction.query(
        "INSERT INTO ingest_items (job_id, ordinal, operation, source, external_id, document, "
          + "outcome, error_code, error_message) "
          + "SELECT $1, u.o, u.op, u.s, u.e, decode(u.d, 'base64'), u.outcome, u.code, "
          + "u.message FROM jsonb_to_recordset($2::jsonb) AS u(o integer, op text, s text, "
          + "e text, d text, outcome text, code text, message text)",
        [jobID, itemsJSON])
      return .created
    }

    var response = Kp_Ingest_V1_SubmitBatchResponse()
    var indexNeeded = true
    switch submitted {
    case .created:
      response.jobId = jobID
    case .existing(let id, let sameBatch, let unfinished):
      guard sameBatch else {
        throw IngestError(
          .invalidArgument,
          "idempotency_key '\(key.prefix(64))' was used for a different batch; use a new key "
            + "for new documents")
      }
      response.jobId = id
      response.duplicate = true
      indexNeeded = unfinished
    }
    if indexNeeded {
      do {
        try await index.add(tenantID: tenantID, jobIDs: [response.jobId])
      } catch {
        logger.warning(
          "could not index an accepted job", ["tenant": tenantID, "job": response.jobId])
        throw IngestError(
          .unavailable, "the batch could not be queued; retry with the same idempotency_key")
      }
      wakeups.wake()
    }
    logger.info(
      "batch accepted",
      [
        "tenant": tenantID, "trace_id": context.traceID, "job": response.jobId,
        "documents": "\(total)", "duplicate": "\(response.duplicate)",
      ])
    return response
  }

  /// Checks the batch's form and its size against the configured limits.
  private func checkLimits(_ request: Kp_Ingest_V1_SubmitBatchRequest) throws(IngestError) {
    let key = request.idempotencyKey
    guard !key.isEmpty else {
      throw IngestError(.invalidArgument, "idempotency_key is required")
    }
    guard key.utf8.count <= 200, !key.utf8.contains(0) else {
      throw IngestError(
        .invalidArgument, "idempotency_key must be at most 200 bytes, without NUL characters")
    }
    guard !request.documents.isEmpty else {
      throw IngestError(.invalidArgument, "documents is empty")
    }
    guard request.documents.count <= options.maximumBatchDocuments else {
      throw IngestError(
        .invalidArgument,
        "the batch has \(request.documents.count) documents, over the limit of "
          + "\(options.maximumBatchDocuments) per batch (max-batch-documents)")
    }
    let bytes = request.documents.reduce(0) { $0 + $1.content.count }
    guard bytes <= options.maximumBatchBytes else {
      throw IngestError(
        .resourceExhausted,
        "the batch carries \(bytes) content bytes, over the limit of "
          + "\(options.maximumBatchBytes) per batch (max-batch-bytes); send smaller batches")
    }
  }

  /// Why a document is refused at once, before it is queued; nil when it can be queued.
  private func refusal(
    of document: Kp_Ingest_V1_IngestDocument, planLimit: Int
  ) -> DocumentRefusal? {
    guard document.operation == .upsert || document.operation == .delete else {
      return .invalidOperation
    }
    for (value, field, limit) in [
      (document.source, "source", QueuedItem.keyLimits.source),
      (document.externalId, "external_id", QueuedItem.keyLimits.externalID),
    ] {
      if value.isEmpty { return DocumentRefusal("invalid_document", "\(field) is required") }
      if value.utf8.count > limit || value.utf8.contains(0) {
        return DocumentRefusal(
          "invalid_document",
          "\(field) must be at most \(limit) bytes, without NUL characters")
      }
    }
    guard document.operation == .upsert else { return nil }
    if let limit = DocumentLimit.strictest(
      configured: options.maximumDocumentBytes, plan: planLimit),
      document.content.count > limit.bytes
    {
      return DocumentRefusal(
        "too_large",
        "the document is \(document.content.count) bytes, over the limit of \(limit.bytes) "
          + "bytes (\(limit.name)); split it")
    }
    let essence = MediaType(parsing: document.contentType)?.essence ?? ""
    guard supportedMediaTypes.contains(essence) else {
      return DocumentRefusal(
        "unsupported_type",
        "content type \"\(document.contentType.prefix(80))\" is not supported; use one of "
          + supportedMediaTypes.sorted().joined(separator: ", "))
    }
    return nil
  }

  /// The job already submitted with the key, if any.
  private static func existingJob(
    _ key: String, _ requestHash: String, in transaction: DatabaseTransaction
  ) throws -> Submitted? {
    let rows = try transaction.query(
      "SELECT id, encode(request_hash, 'hex') AS hash, state FROM ingest_jobs "
        + "WHERE idempotency_key = $1",
      [key])
    guard let row = rows.first else { return nil }
    let state = row["state"] ?? ""
    return .existing(
      id: row["id"] ?? "", sameBatch: row["hash"] == requestHash,
      unfinished: state == "queued" || state == "running")
  }

  private static func encode(_ items: [QueuedItem]) throws(IngestError) -> Data {
    do {
      return try JSONEncoder().encode(items)
    } catch {
      throw IngestError(.internalFailure, "the batch could not be encoded")
    }
  }
}
