import KPDatabase
import KPProtocol
import KPRPC

extension KnowledgeService {
  /// Reads one document with its text, by id or by source and external id.
  func get(
    _ request: Kp_Knowledge_V1_GetDocumentRequest, _ context: ServerContext
  ) async throws(KnowledgeError) -> Kp_Knowledge_V1_GetDocumentResponse {
    let caller = try Caller(context)
    let condition: String
    let key: [String]
    switch request.key {
    case .id(let id)?:
      condition = "d.id = $2 AND $3 = ''"
      key = [id, ""]
    case .external(let external)?:
      condition = "d.source = $2 AND d.external_id = $3"
      key = [external.source, external.externalId]
    case nil:
      throw KnowledgeError(.invalidArgument, "id or external is required")
    }
    let parameters =
      ["true"] + key
      + [
        caller.limitedToAccess ? "true" : "false", SQLValues.textArray(caller.userKeys),
        SQLValues.textArray(caller.groups),
      ]
    let rows = try await inTenant(caller.tenantID) { transaction in
      try transaction.query(
        "SELECT \(DocumentRows.columns(withText: 1)) FROM documents d WHERE \(condition) "
          + "AND (NOT $4::boolean OR \(DocumentRows.admits(users: 5, groups: 6)))",
        parameters)
    }
    guard let row = rows.first else {
      throw KnowledgeError(.notFound, "no such document")
    }
    var response = Kp_Knowledge_V1_GetDocumentResponse()
    response.document = DocumentRows.document(row)
    return response
  }

  /// Lists documents, of one source or all, in id order, a page at a time.
  func list(
    _ request: Kp_Knowledge_V1_ListDocumentsRequest, _ context: ServerContext
  ) async throws(KnowledgeError) -> Kp_Knowledge_V1_ListDocumentsResponse {
    let caller = try Caller(context)
    let token = try PageToken(parsing: request.pageToken)
    let size = request.pageSize == 0 ? 100 : Int(request.pageSize)
    guard size <= 1_000 else {
      throw KnowledgeError(.invalidArgument, "page_size \(size) is above the limit of 1000")
    }
    let access = " AND (NOT $7::boolean OR \(DocumentRows.admits(users: 5, groups: 6)))"
    let rows = try await inTenant(caller.tenantID) { transaction in
      try transaction.query(
        "SELECT \(DocumentRows.columns(withText: 1)) FROM documents d "
          + "WHERE ($2 = '' OR d.source = $2) AND d.id > $3\(access) "
          + "ORDER BY d.id LIMIT $4::integer",
        [
          request.omitText ? "false" : "true", request.source, token.position, "\(size + 1)",
          SQLValues.textArray(caller.userKeys), SQLValues.textArray(caller.groups),
          caller.limitedToAccess ? "true" : "false",
        ])
    }
    var response = Kp_Knowledge_V1_ListDocumentsResponse()
    response.documents = rows.prefix(size).map(DocumentRows.document)
    if rows.count > size, let last = response.documents.last {
      response.nextPageToken = PageToken(position: last.id).text
    }
    return response
  }

  /// Deletes documents; they leave search when the call returns.
  ///
  /// Store ids must all exist in the caller's tenant, else nothing is deleted and the call
  /// ends NOT_FOUND. External keys that name no document are skipped, so a source's delete can
  /// be retried.
  func delete(
    _ request: Kp_Knowledge_V1_DeleteDocumentsRequest, _ context: ServerContext
  ) async throws(KnowledgeError) -> Kp_Knowledge_V1_DeleteDocumentsResponse {
    let caller = try Caller(context)
    guard !request.ids.isEmpty || !request.external.isEmpty else {
      throw KnowledgeError(.invalidArgument, "ids or external is required")
    }
    guard request.ids.count + request.external.count <= PreparedDocument.maximumBatch else {
      throw KnowledgeError(
        .invalidArgument, "at most \(PreparedDocument.maximumBatch) documents per call")
    }
    let ids = Array(Set(request.ids))
    let sources = request.external.map(\.source)
    let externalIDs = request.external.map(\.externalId)
    let deleted = try await inTenant(caller.tenantID) { transaction in
      let byID = try transaction.query(
        "DELETE FROM documents WHERE id = ANY($1::text[]) RETURNING bytes",
        [SQLValues.textArray(ids)])
      guard byID.count == ids.count else {
        throw KnowledgeError(.notFound, "no such document")
      }
      let byKey = try transaction.query(
        "DELETE FROM documents d USING unnest($1::text[], $2::text[]) AS k(source, external_id) "
          + "WHERE d.source = k.source AND d.external_id = k.external_id RETURNING d.bytes",
        [SQLValues.textArray(sources), SQLValues.textArray(externalIDs)])
      let rows = byID.rows + byKey.rows
      let bytes = rows.reduce(0) { $0 + (Int($1["bytes"] ?? "") ?? 0) }
      try Self.count(documents: -rows.count, bytes: -bytes, in: transaction)
      return rows.count
    }
    logger.info(
      "documents deleted",
      ["tenant": caller.tenantID, "trace_id": context.traceID, "documents": "\(deleted)"])
    var response = Kp_Knowledge_V1_DeleteDocumentsResponse()
    response.deleted = UInt32(deleted)
    return response
  }
}
