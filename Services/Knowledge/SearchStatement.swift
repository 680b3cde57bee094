import KPDocuments
import KPProtocol

/// The one statement behind `Search`, and its parameters.
///
/// The file depends only on shared libraries and on ``SQLValues`` and ``DocumentRows``, so
/// bench/search compiles these same files and sends the very same statement straight to
/// PostgreSQL as its floor.
enum SearchStatement {
  /// The parameters of ``sql`` for a query, in order: $1 the tsquery, $2 the excluded terms'
  /// tsquery or '', $3 user ids, $4 groups, $5 sources, $6 content types, $7 and $8 the
  /// modified range in microseconds (0 for none), $9 the page size, $10 the offset.
  static func parameters(
    _ query: SearchQuery, users: [String], groups: [String],
    filters: Kp_Knowledge_V1_SearchFilters, size: Int, offset: Int
  ) -> [String?] {
    let excluded = excludedTerms(query.expression)
    return [
      query.tsquery,
      excluded.map { SearchQuery(expression: .or($0)).tsquery } ?? "",
      SQLValues.textArray(users), SQLValues.textArray(groups),
      SQLValues.textArray(filters.sources), SQLValues.textArray(filters.contentTypes),
      "\(filters.modifiedAfterMicros)", "\(filters.modifiedBeforeMicros)",
      "\(size)", "\(offset)",
    ]
  }

  /// The terms and phrases a query excludes at its top level, or `nil` when none.
  static func excludedTerms(_ expression: SearchExpression) -> [SearchExpression]? {
    let parts: [SearchExpression]
    if case .and(let all) = expression { parts = all } else { parts = [expression] }
    let excluded = parts.compactMap { part -> SearchExpression? in
      if case .not(let inner) = part { return inner }
      return nil
    }
    return excluded.isEmpty ? nil : excluded
  }

  /// The statement: one row per hit of the page, each with the total of matching visible
  /// documents (one row with no hit when nothing matches).
  ///
  /// Chunks match the query (title weighted above headings above body); a document ranks by
  /// its best chunk, whose text gives the snippet. An excluded term excludes a document when
  /// any of its chunks has it. Queries parse with the tenant's text-search configuration,
  /// the one its chunks were indexed with.
  ///
  /// Each matching chunk is ranked once, and the documents an exclusion removes are found with
  /// one index scan up front rather than one per matching chunk.
  static let sql = """
    WITH q AS (
      SELECT s.config, to_tsquery(s.config, $1) AS query,
        CASE WHEN $2 = '' THEN NULL ELSE to_tsquery(s.config, $2) END AS excluded
      FROM (SELECT \(SQLValues.searchConfigSQL) AS config) s
    ), excluded AS (
      SELECT DISTINCT x.document_id FROM chunks x CROSS JOIN q
      WHERE q.excluded IS NOT NULL AND x.search @@ q.excluded
    ), matches AS (
      SELECT c.document_id, c.ordinal,
        ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', c.search, q.query) AS score
      FROM chunks c JOIN documents d ON d.id = c.document_id CROSS JOIN q
      WHERE c.search @@ q.query
        AND \(DocumentRows.admits(users: 3, groups: 4))
        AND (cardinality($5::text[]) = 0 OR d.source = ANY($5::text[]))
        AND (cardinality($6::text[]) = 0 OR d.content_type = ANY($6::text[]))
        AND ($7::bigint = 0 OR d.modified_at >= \(SQLValues.timestampSQL(7)))
        AND ($8::bigint = 0 OR d.modified_at < \(SQLValues.timestampSQL(8)))
        AND NOT EXISTS (SELECT 1 FROM excluded e WHERE e.document_id = c.document_id)
    ), hits AS (
      SELECT DISTINCT ON (document_id) document_id, score, ordinal AS best
      FROM matches ORDER BY document_id, score DESC, ordinal
    ), page AS (
      SELECT document_id, score, best FROM hits
      ORDER BY score DESC, document_id LIMIT $9::integer OFFSET $10::integer
    )
    SELECT t.total, p.document_id, d.title, d.url, d.source, p.score,
      \(SQLValues.microsSQL("d.modified_at")) AS modified,
      ts_headline(q.config, translate(c.text, chr(2) || chr(3), ''), q.query,
        \(SnippetMarkup.headlineOptionsSQL)) AS snippet
    FROM (SELECT count(*) AS total FROM hits) t
      CROSS JOIN q
      LEFT JOIN page p ON true
      LEFT JOIN documents d ON d.id = p.document_id
      LEFT JOIN chunks c ON c.document_id = p.document_id AND c.ordinal = p.best
    ORDER BY p.score DESC, p.document_id
    """
}
