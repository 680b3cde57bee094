import Foundation
import KPHTTP
import KPProtocol

extension GatewayAPI {
  /// The most results one search page holds.
  static let maximumSearchLimit = 100
  /// How deep a search may page.
  static let maximumSearchOffset = 10_000

  /// `GET /v1/search?q=&limit=&offset=&source=&content_type=`.
  func search(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    try request.verified.require(.search)
    guard let query = request.http.queryValue("q"),
      !query.trimmingCharacters(in: .whitespaces).isEmpty
    else {
      throw .invalid("the query parameter q is required")
    }
    guard query.utf8.count <= 1000 else { throw .invalid("q is longer than 1000 bytes") }
    let limit = try request.limit(maximum: Self.maximumSearchLimit, fallback: 10)
    var offset = 0
    if let text = request.http.queryValue("offset") {
      guard let value = Int(text), (0...Self.maximumSearchOffset).contains(value) else {
        throw .invalid("offset must be a whole number from 0 to \(Self.maximumSearchOffset)")
      }
      offset = value
    }
    var message = Kp_Knowledge_V1_SearchRequest()
    message.query = query
    message.pageSize = UInt32(limit)
    message.pageToken = offset == 0 ? "" : Self.searchPageToken(offset: offset)
    var filters = Kp_Knowledge_V1_SearchFilters()
    filters.sources = request.http.queryItems.filter { $0.name == "source" }.map(\.value)
    filters.contentTypes = request.http.queryItems.filter { $0.name == "content_type" }
      .map(\.value)
    message.filters = filters
    let response = try await call(
      upstreams.knowledge, Kp_Knowledge_V1_Knowledge.search, message, for: request)
    let results: [[String: Any]] = response.hits.map { hit in
      [
        "document_id": hit.documentId, "title": hit.title, "url": hit.url, "source": hit.source,
        "snippet": hit.snippet, "score": hit.score.isFinite ? hit.score : 0,
      ]
    }
    return try json(["results": results, "total": response.estimatedTotal])
  }

  /// `GET /v1/stats`: the tenant's document, chunk and byte counts by source.
  func stats(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    try request.verified.require(.search)
    let response = try await call(
      upstreams.knowledge, Kp_Knowledge_V1_Knowledge.stats, Kp_Knowledge_V1_StatsRequest(),
      for: request)
    let sources: [[String: Any]] = response.bySource.sorted { $0.key < $1.key }.map {
      [
        "source": $0.key, "documents": $0.value.documents, "chunks": $0.value.chunks,
        "bytes": $0.value.storedBytes,
      ]
    }
    return try json(
      [
        "documents": response.documents, "chunks": response.chunks,
        "bytes": response.storedBytes, "sources": sources,
      ])
  }

  /// `GET /readyz`: 200 when every internal service answers its health check, else 503.
  func readiness(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    var dependencies: [String: String] = [:]
    for (name, channel) in upstreams.all {
      do {
        let answer = try await channel.unary(
          Kp_Health_V1_Health.check, Kp_Health_V1_HealthCheckRequest(),
          options: request.trace.options(caller: nil, timeout: .seconds(2)))
        dependencies[name] = answer.status == .serving ? "ok" : "not serving"
      } catch {
        dependencies[name] = "unreachable: \(error.code.name)"
      }
    }
    let ready = dependencies.values.allSatisfy { $0 == "ok" }
    return try json(
      ["status": ready ? "ok" : "unavailable", "dependencies": dependencies],
      status: ready ? .ok : .serviceUnavailable)
  }

  /// The knowledge store's page token for a search offset (base64url of `kpk1:<offset>`).
  static func searchPageToken(offset: Int) -> String {
    Data("kpk1:\(offset)".utf8).base64EncodedString()
      .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
      .replacingOccurrences(of: "=", with: "")
  }
}
