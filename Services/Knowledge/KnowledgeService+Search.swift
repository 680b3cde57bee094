import KPDatabase
import KPDocuments
import KPProtocol
import KPRPC

extension KnowledgeService {
  /// The most hits a search page holds.
  static let maximumSearchPage = 100
  /// How deep a search may page, in hits.
  static let maximumSearchOffset = 10_000

  /// Searches the documents the caller may see.
  ///
  /// Chunks match the query (title weighted above headings above body); a document ranks by
  /// its best chunk, whose text gives the snippet. An excluded term (`-word`) excludes a
  /// document when any of its chunks has it. The total counts matching visible documents.
  func search(
    _ request: Kp_Knowledge_V1_SearchRequest, _ context: ServerContext
  ) async throws(KnowledgeError) -> Kp_Knowledge_V1_SearchResponse {
    let caller = try Caller(context)
    let query: SearchQuery
    do {
      query = try SearchQuery(parsing: request.query)
    } catch {
      throw KnowledgeError(.invalidArgument, "query: \(error.message)")
    }
    let size = request.pageSize == 0 ? 10 : Int(request.pageSize)
    guard size <= Self.maximumSearchPage else {
      throw KnowledgeError(
        .invalidArgument,
        "page_size \(size) is above the limit of \(Self.maximumSearchPage)")
    }
    let token = try PageToken(parsing: request.pageToken)
    let offset = token.position.isEmpty ? 0 : Int(token.position) ?? -1
    guard offset >= 0, offset <= Self.maximumSearchOffset else {
      throw KnowledgeError(.invalidArgument, "page_token is not one a previous response returned")
    }
    let parameters = SearchStatement.parameters(
      query, users: caller.userKeys, groups: caller.groups,
      filters: request.filters ?? Kp_Knowledge_V1_SearchFilters(), size: size, offset: offset)
    let rows = try await inTenant(caller.tenantID) { transaction in
      try transaction.query(SearchStatement.sql, parameters)
    }
    var response = Kp_Knowledge_V1_SearchResponse()
    response.estimatedTotal = UInt64(rows.first?["total"] ?? "") ?? 0
    for row in rows where row["document_id"] != nil {
      var hit = Kp_Knowledge_V1_SearchHit()
      hit.documentId = row["document_id"] ?? ""
      hit.title = row["title"] ?? ""
      hit.url = row["url"] ?? ""
      hit.source = row["source"] ?? ""
      hit.snippet = SnippetMarkup.html(fromHeadline: row["snippet"] ?? "")
      hit.score = Double(row["score"] ?? "") ?? 0
      hit.modifiedAtMicros = Int64(row["modified"] ?? "") ?? 0
      response.hits.append(hit)
    }
    if offset + response.hits.count < Int(response.estimatedTotal),
      response.hits.count == size
    {
      response.nextPageToken = PageToken(position: "\(offset + size)").text
    }
    logger.debug(
      "search",
      [
        "tenant": caller.tenantID, "trace_id": context.traceID,
        "hits": "\(response.hits.count)", "total": "\(response.estimatedTotal)",
      ])
    return response
  }
}
