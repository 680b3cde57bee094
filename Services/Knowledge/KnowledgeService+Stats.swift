import KPProtocol
import KPRPC

extension KnowledgeService {
  /// Counts the tenant's documents, chunks and stored bytes, in all and by source, and names
  /// the text-search configuration in use.
  func stats(
    _ request: Kp_Knowledge_V1_StatsRequest, _ context: ServerContext
  ) async throws(KnowledgeError) -> Kp_Knowledge_V1_StatsResponse {
    let caller = try Caller(context)
    let (rows, configuration) = try await inTenant(caller.tenantID) { transaction in
      let configuration = try transaction.query(
        "SELECT (\(SQLValues.searchConfigSQL))::text AS name")
      let rows = try transaction.query(
        "SELECT d.source, count(*) AS documents, COALESCE(sum(d.bytes), 0) AS bytes, "
          + "COALESCE(sum(c.n), 0) AS chunks, "
          + "COALESCE(max(\(SQLValues.microsSQL("d.modified_at"))), 0) AS modified "
          + "FROM documents d LEFT JOIN (SELECT document_id, count(*) AS n FROM chunks "
          + "GROUP BY document_id) c ON c.document_id = d.id GROUP BY d.source")
      return (rows, configuration.first?["name"] ?? "")
    }
    var response = Kp_Knowledge_V1_StatsResponse()
    response.searchConfiguration = configuration
    for row in rows {
      var source = Kp_Knowledge_V1_SourceStats()
      source.documents = UInt64(row["documents"] ?? "") ?? 0
      source.storedBytes = UInt64(row["bytes"] ?? "") ?? 0
      source.chunks = UInt64(row["chunks"] ?? "") ?? 0
      source.lastModifiedAtMicros = Int64(row["modified"] ?? "") ?? 0
      response.bySource[row["source"] ?? ""] = source
      response.documents += source.documents
      response.storedBytes += source.storedBytes
      response.chunks += source.chunks
    }
    return response
  }
}
