import Foundation
import KPHTTP
import KPRPC

/// Calls the gateway's HTTPS REST API (`/v1/search`, `/v1/documents`), with the credential in
/// the `Authorization` header. Each connection is one kept-alive ``HTTPSClient``; requests take
/// the connections in turn and wait on a thread of their own, since the client blocks.
struct HTTPSGatewayClient: GatewayClient {
  /// The words a listing searches for, as the REST API has no document listing.
  static let samplingQuery = TermExtractor.fallbackVocabulary.joined(separator: " OR ")

  private let clients: [HTTPSClient]
  private let turn = RoundRobin()

  var transport: String { "https" }

  /// Makes the connections; nothing connects until the first request.
  ///
  /// - Throws: ``LoadError`` when the CA bundle cannot be loaded.
  init(target: SocketAddress, options: LoadOptions) throws(LoadError) {
    var clients: [HTTPSClient] = []
    for _ in 0..<options.connections {
      do {
        clients.append(
          try HTTPSClient(
            host: target.host, port: target.port, trustRoots: options.caFile,
            timeout: options.timeout))
      } catch {
        throw LoadError(.invalidSetting, "cannot set up HTTPS to \(target): \(error)")
      }
    }
    self.clients = clients
  }

  func sample(
    count: Int, as tenant: TenantCredential
  ) async -> (calls: [CallOutcome], documents: [SampledDocument]) {
    let query = Self.escape(Self.samplingQuery)
    let (found, body) = await send(
      .get, "/v1/search?q=\(query)&limit=\(min(count, 100))", route: "/v1/search", as: tenant)
    guard found.succeeded else { return ([found], []) }
    let ids = Self.resultIDs(body)
    var calls = [found]

    // Each hit is read for its words; a failed read fails the sampling.
    var documents: [SampledDocument] = []
    for id in ids {
      let (read, document) = await send(
        .get, "/v1/documents/\(Self.escape(id))", route: "/v1/documents/{id}", as: tenant)
      calls.append(read)
      guard read.succeeded else { return (calls, documents) }
      let title = document?["title"] as? String ?? ""
      let text = document?["text"] as? String ?? ""
      documents.append(SampledDocument(id: id, text: title + "\n" + text))
    }
    return (calls, documents)
  }

  func search(_ query: String, as tenant: TenantCredential) async -> CallOutcome {
    var (outcome, body) = await send(
      .get, "/v1/search?q=\(Self.escape(query))&limit=10", route: "/v1/search", as: tenant)
    outcome.documentIDs = Self.resultIDs(body)
    return outcome
  }

  func get(_ id: String, as tenant: TenantCredential) async -> CallOutcome {
    await send(.get, "/v1/documents/\(Self.escape(id))", route: "/v1/documents/{id}", as: tenant)
      .0
  }

  func ingest(
    _ document: GeneratedDocument, idempotencyKey: String, as tenant: TenantCredential
  ) async -> CallOutcome {
    let batch: [String: Any] = [
      "documents": [
        [
          "source": GeneratedDocument.source, "external_id": document.externalID,
          "title": document.title, "content_type": "text/plain", "content": document.text,
          "acl": ["tenant_wide": true],
        ]
      ]
    ]
    let body = (try? JSONSerialization.data(withJSONObject: batch)) ?? Data()
    return await send(
      .post, "/v1/documents", route: "/v1/documents", as: tenant,
      headers: [("Idempotency-Key", idempotencyKey), ("Content-Type", "application/json")],
      body: Array(body)
    ).0
  }

  func close() {
    for client in clients { client.close() }
  }

  /// Sends one request on the next connection, off the cooperative threads.
  private func send(
    _ method: HTTPMethod, _ target: String, route: String, as tenant: TenantCredential,
    headers: [(String, String)] = [], body: [UInt8] = []
  ) async -> (CallOutcome, [String: Any]?) {
    let client = clients[turn.next() % clients.count]
    let call = "\(method.rawValue) \(route)"
    let all = headers + [("Authorization", "Bearer " + tenant.token)]
    let answer: Result<HTTPClientResponse, HTTPClientError> = await withCheckedContinuation {
      continuation in
      DispatchQueue.global().async {
        continuation.resume(
          returning: Result { () throws(HTTPClientError) in
            try client.send(method, target, headers: all, body: body)
          })
      }
    }
    switch answer {
    case .success(let response) where (200..<300).contains(response.status):
      return (CallOutcome(call: call, code: CallOutcome.ok), response.jsonObject)
    case .success(let response):
      let error = response.jsonObject?["error"] as? [String: Any]
      return (
        CallOutcome(
          call: call, code: error?["code"] as? String ?? "HTTP_\(response.status)",
          message: error?["message"] as? String ?? "HTTP status \(response.status)"),
        nil
      )
    case .failure(let error):
      return (CallOutcome(call: call, code: error.code.rawValue, message: "\(error)"), nil)
    }
  }

  private static func resultIDs(_ body: [String: Any]?) -> [String] {
    (body?["results"] as? [[String: Any]] ?? []).compactMap { $0["document_id"] as? String }
  }

  private static func escape(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
  }
}
