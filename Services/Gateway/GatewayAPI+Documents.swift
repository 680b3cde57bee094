import Foundation
import KPHTTP
import KPProtocol

extension GatewayAPI {
  /// The most documents one batch may hold.
  static let maximumBatchSize = 1000
  /// The most content bytes one batch may carry, all documents together (kp-ingest's default
  /// `max-batch-bytes`, under the 4 MiB an internal call may carry).
  static let maximumBatchContentBytes = 3 << 20

  /// `POST /v1/documents {documents: [...]}` with `Idempotency-Key`: 202 with the job.
  func submitDocuments(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    try request.verified.require(.ingest)
    guard let key = request.http.headers["idempotency-key"] else {
      throw .invalid("the Idempotency-Key header is required (1 to 128 printable ASCII)")
    }
    guard (1...128).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
    else {
      throw .invalid("the Idempotency-Key header must be 1 to 128 printable ASCII characters")
    }
    let body = try JSONBody(request.http)
    let documents = try body.objects("documents")
    guard !documents.isEmpty else { throw .unprocessable("'documents' must not be empty") }
    guard documents.count <= Self.maximumBatchSize else {
      throw .unprocessable("a batch holds at most \(Self.maximumBatchSize) documents")
    }
    var message = Kp_Ingest_V1_SubmitBatchRequest()
    message.idempotencyKey = key
    message.documents = try documents.map(Self.ingestDocument)
    let contentBytes = message.documents.reduce(0) { $0 + $1.content.count }
    guard contentBytes <= Self.maximumBatchContentBytes else {
      throw .tooLarge(
        "the batch carries \(contentBytes) bytes of content, over the "
          + "\(Self.maximumBatchContentBytes) one batch may carry; send smaller batches")
    }
    // A RESOURCE_EXHAUSTED from ingest is a plan quota: 429 without Retry-After, as waiting
    // does not help.
    let response = try await call(
      upstreams.ingest, Kp_Ingest_V1_Ingest.submitBatch, message, for: request)
    return try json(
      [
        "job_id": response.jobId, "accepted": message.documents.count,
        "duplicate": response.duplicate,
      ], status: .accepted)
  }

  /// One batch member from its JSON.
  static func ingestDocument(_ body: JSONBody) throws(GatewayError) -> Kp_Ingest_V1_IngestDocument {
    var document = Kp_Ingest_V1_IngestDocument()
    document.source = try body.requiredString("source")
    document.externalId = try body.requiredString("external_id")
    let deleting = try body.bool("delete") ?? false
    document.operation = deleting ? .delete : .upsert
    document.modifiedAtMicros = try body.timestampMicros("modified_at") ?? 0
    guard !deleting else { return document }

    document.title = try body.requiredString("title")
    document.url = try body.string("url") ?? ""
    document.contentType = try body.requiredString("content_type")
    if let text = try body.string("content") {
      document.content = Array(text.utf8)
    } else if let encoded = try body.string("content_base64") {
      guard let data = Data(base64Encoded: encoded) else {
        throw .unprocessable("'\(body.path).content_base64' is not valid base64")
      }
      document.content = Array(data)
    } else {
      throw .unprocessable("'\(body.path)' needs 'content' or 'content_base64'")
    }
    guard let acl = try body.object("acl", required: true) else { return document }
    document.tenantWide = try acl.bool("tenant_wide") ?? false
    document.users = try acl.strings("users") ?? []
    document.groups = try acl.strings("groups") ?? []
    return document
  }

  /// `GET /v1/jobs/{id}`: an ingest job's state and per-document errors.
  func getJob(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    try request.verified.require(.ingest)
    var message = Kp_Ingest_V1_GetJobRequest()
    message.jobId = request.parameter("id")
    let response: Kp_Ingest_V1_GetJobResponse
    do {
      response = try await call(upstreams.ingest, Kp_Ingest_V1_Ingest.getJob, message, for: request)
    } catch  where error.code == "INVALID_ARGUMENT" {
      throw .notFound("no such job")
    }
    guard let job = response.job else { throw .notFound("no such job") }
    return try json(APIObjects.job(job))
  }

  /// `GET /v1/documents/{id}`: one document the caller may see.
  func getDocument(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    try request.verified.require(.search)
    var message = Kp_Knowledge_V1_GetDocumentRequest()
    message.key = .id(request.parameter("id"))
    let response: Kp_Knowledge_V1_GetDocumentResponse
    do {
      response = try await call(
        upstreams.knowledge, Kp_Knowledge_V1_Knowledge.getDocument, message, for: request)
    } catch  where error.code == "INVALID_ARGUMENT" {
      throw .notFound("no such document")
    }
    guard let document = response.document else { throw .notFound("no such document") }
    return try json(APIObjects.document(document))
  }

  /// `DELETE /v1/documents/{id}`: removes one document.
  func deleteDocument(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    try request.verified.require(.ingest)
    var message = Kp_Knowledge_V1_DeleteDocumentsRequest()
    message.ids = [request.parameter("id")]
    let response: Kp_Knowledge_V1_DeleteDocumentsResponse
    do {
      response = try await call(
        upstreams.knowledge, Kp_Knowledge_V1_Knowledge.deleteDocuments, message, for: request)
    } catch  where error.code == "INVALID_ARGUMENT" {
      throw .notFound("no such document")
    }
    guard response.deleted > 0 else { throw .notFound("no such document") }
    return noContent()
  }
}
