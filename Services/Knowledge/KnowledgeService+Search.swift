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
    let filters = request.filters ?? Kp_Knowledge_V1_SearchFilters()
    let excluded = Self.excludedTerms(query.expression)
    let parameters: [String?] = [
      query.tsquery,
      excluded.map { SearchQuery(expression: .or($0)).tsquery } ?? "",
      SQLValues.textArray(caller.userKeys), SQLValues.textArray(caller.groups),
      SQLValues.textArray(filters.sources), SQLValues.textArray(filters.contentTypes),
      "\(filters.modifiedAfterMicros)", "\(filters.modifiedBeforeMicros)",
      "\(size)", "\(offset)",
    ]
    let rows = try await inTenant(caller.tenantID) { transaction in
      try transaction.query(Self.searchSQL, parameters)
    }
    var response = Kp_Knowledge_V1_SearchResponse()
    response.estimatedTotal = UInt64(rows.first?["total"] ?? "") ?? 0
    for row in rows where row["document_id"] != nil {
      var hit = Kp_Knowledge_V1_SearchHit()
      hit.documentId = row["document_id"] ?? ""
      hit.title = row["title"] ?? ""
      hit.url = row["url"] ?? ""
      hit.source = row["source"] ?? ""
      hit.snippet = row["snippet"] ?? ""
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

  /// The terms and phrases a query excludes at its top level, or `nil` when none.
  private static func excludedTerms(_ expression: SearchExpression) -> [SearchExpression]? {
    let parts: [SearchExpression]
    if case .and(let all) = expression { parts = all } else { parts = [expression] }
    let excluded = parts.compactMap { part -> SearchExpression? in
      if case .not(let inner) = part { return inner }
      return nil
    }
    return excluded.isEmpty ? nil : excluded
  }

  /// The search statement. Parameters: $1 the tsquery, $2 the excluded terms' tsquery or '',
  /// $3 user ids, $4 groups, $5 sources, $6 content types, $7 and $8 the modified range in
  /// microseconds (0 for none), $9 the page size, $10 the offset.
  private static let searchSQL = """
    WITH q AS (
      SELECT s.config, to_tsquery(s.config, $1) AS query,
        CASE WHEN $2 = '' THEN NULL ELSE to_tsquery(s.config, $2) END AS excluded
      FROM (SELECT \(SQLValues.searchConfigSQL) AS config) s
    ), hits AS (
      SELECT c.document_id,
        max(ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', c.search, q.query)) AS score,
        (array_agg(c.ordinal ORDER BY ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', c.search, q.query)
          DESC, c.ordinal))[1] AS best
      FROM chunks c JOIN documents d ON d.id = c.document_id CROSS JOIN q
      WHERE c.search @@ q.query
        AND \(DocumentRows.admits(users: 3, groups: 4))
        AND (cardinality($5::text[]) = 0 OR d.source = ANY($5::text[]))
        AND (cardinality($6::text[]) = 0 OR d.content_type = ANY($6::text[]))
        AND ($7::bigint = 0 OR d.modified_at >= \(SQLValues.timestampSQL(7)))
        AND ($8::bigint = 0 OR d.modified_at < \(SQLValues.timestampSQL(8)))
        AND (q.excluded IS NULL OR NOT EXISTS (
          SELECT 1 FROM chunks x WHERE x.document_id = c.document_id AND x.search @@ q.excluded))
      GROUP BY c.document_id
    ), page AS (
      SELECT document_id, score, best FROM hits
      ORDER BY score DESC, document_id LIMIT $9::integer OFFSET $10::integer
    )
    SELECT t.total, p.document_id, d.title, d.url, d.source, p.score,
      \(SQLValues.microsSQL("d.modified_at")) AS modified,
      ts_headline(q.config, c.text, q.query,
        'StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=12, MaxFragments=2') AS snippet
    FROM (SELECT count(*) AS total FROM hits) t
      CROSS JOIN q
      LEFT JOIN page p ON true
      LEFT JOIN documents d ON d.id = p.document_id
      LEFT JOIN chunks c ON c.document_id = p.document_id AND c.ordinal = p.best
    ORDER BY p.score DESC, p.document_id
    """
}
