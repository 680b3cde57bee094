import KPProtocol
import KPRPC

extension KnowledgeService {
  /// Counts the tenant's documents, chunks and stored bytes, in all and by source.
  func stats(
    _ request: Kp_Knowledge_V1_StatsRequest, _ context: ServerContext
  ) async throws(KnowledgeError) -> Kp_Knowledge_V1_StatsResponse {
    let caller = try Caller(context)
    let rows = try await inTenant(caller.tenantID) { transaction in
      try transaction.query(
        "SELECT d.source, count(*) AS documents, COALESCE(sum(d.bytes), 0) AS bytes, "
          + "COALESCE(sum(c.n), 0) AS chunks, "
          + "COALESCE(max(\(SQLValues.microsSQL("d.modified_at"))), 0) AS modified "
          + "FROM documents d LEFT JOIN (SELECT document_id, count(*) AS n FROM chunks "
          + "GROUP BY document_id) c ON c.document_id = d.id GROUP BY d.source")
    }
    var response = Kp_Knowledge_V1_StatsResponse()
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
