import KPDatabase
import KPProtocol
import KPRPC
import KPTokens

extension KnowledgeService {
  /// Stores documents by (source, external id), all in one transaction.
  ///
  /// A document whose content hash, access list and metadata match the stored version is left
  /// alone (`changed` false). A changed text or title replaces the document's chunks and raises
  /// its version; a change of metadata or access list alone raises the version and keeps the
  /// chunks. A document given without an access list keeps its stored one; a new document must
  /// have one, and a list given must admit someone (tenant-wide, a user or a group), so no
  /// document becomes visible to everyone, or to no one, by omission.
  func upsert(
    _ request: Kp_Knowledge_V1_UpsertDocumentsRequest, _ context: ServerContext
  ) async throws(KnowledgeError) -> Kp_Knowledge_V1_UpsertDocumentsResponse {
    let caller = try Caller(context)
    guard !request.documents.isEmpty else {
      throw KnowledgeError(.invalidArgument, "documents is empty")
    }
    guard request.documents.count <= PreparedDocument.maximumBatch else {
      throw KnowledgeError(
        .invalidArgument,
        "\(request.documents.count) documents exceed the limit of "
          + "\(PreparedDocument.maximumBatch) per call")
    }
    var prepared: [PreparedDocument] = []
    var keys = Set<[String]>()
    for document in request.documents {
      let item = try PreparedDocument(document)
      guard keys.insert([item.source, item.externalID]).inserted else {
        throw KnowledgeError(
          .invalidArgument,
          "document '\(item.source.prefix(64))/\(item.externalID.prefix(128))' appears twice")
      }
      prepared.append(item)
    }
    var ids: [String] = []
    for _ in prepared {
      do {
        ids.append("d" + (try SecureRandom.hex(16)))
      } catch {
        throw KnowledgeError(.internalFailure, "no random bytes for a document id")
      }
    }
    let documents = prepared
    let newIDs = ids

    let results = try await inTenant(caller.tenantID) { transaction in
      var results: [Kp_Knowledge_V1_UpsertResult] = []
      var addedDocuments = 0
      var addedBytes = 0
      let stored = try Self.storedRows(of: documents, in: transaction)
      for (document, newID) in zip(documents, newIDs) {
        let outcome = try Self.store(
          document, newID: newID, stored: stored[[document.source, document.externalID]],
          in: transaction)
        results.append(outcome.result)
        addedDocuments += outcome.addedDocuments
        addedBytes += outcome.addedBytes
      }
      try Self.count(documents: addedDocuments, bytes: addedBytes, in: transaction)
      return results
    }
    logger.info(
      "documents upserted",
      [
        "tenant": caller.tenantID, "trace_id": context.traceID,
        "documents": "\(results.count)", "changed": "\(results.filter(\.changed).count)",
      ])
    var response = Kp_Knowledge_V1_UpsertDocumentsResponse()
    response.results = results
    return response
  }

  /// What storing one document did.
  private struct StoreOutcome {
    var result: Kp_Knowledge_V1_UpsertResult
    var addedDocuments: Int
    var addedBytes: Int
  }

  /// The stored columns an upsert compares, up to the `WHERE` clause that picks the rows.
  private static let storedColumns =
    "SELECT source, external_id, id, version, encode(content_hash, 'hex') AS hash, url, "
    + "content_type, acl_tenant_wide, to_json(acl_users)::text AS users, "
    + "to_json(acl_groups)::text AS groups, attributes::text AS attributes, "
    + "\(SQLValues.microsSQL("modified_at")) AS modified, bytes FROM documents "

  /// The stored rows of the batch's documents, locked for the transaction, by source and
  /// external id: one statement for the whole batch, locking in id order.
  private static func storedRows(
    of documents: [PreparedDocument], in transaction: DatabaseTransaction
  ) throws -> [[String]: PostgresRow] {
    let rows = try transaction.query(
      storedColumns
        + "WHERE (source, external_id) IN (SELECT k.s, k.e FROM "
        + "unnest($1::text[], $2::text[]) AS k(s, e)) ORDER BY id FOR UPDATE",
      [
        SQLValues.textArray(documents.map(\.source)),
        SQLValues.textArray(documents.map(\.externalID)),
      ])
    var stored: [[String]: PostgresRow] = [:]
    for row in rows {
      stored[[row["source"] ?? "", row["external_id"] ?? ""]] = row
    }
    return stored
  }

  /// Inserts, replaces or leaves one document; `stored` is its row when the batch's lookup
  /// found one.
  private static func store(
    _ document: PreparedDocument, newID: String, stored: PostgresRow?,
    in transaction: DatabaseTransaction
  ) throws -> StoreOutcome {
    var result = Kp_Knowledge_V1_UpsertResult()
    result.externalId = document.externalID
    if let stored {
      return try replace(document, stored: stored, result: result, in: transaction)
    }
    guard let access = document.access else {
      throw KnowledgeError(
        .invalidArgument,
        "document '\(document.source.prefix(64))/\(document.externalID.prefix(128))' is new "
          + "and has no access list; give one (tenant_wide, users or groups)")
    }

    let inserted = try transaction.query(
      "INSERT INTO documents (id, source, external_id, title, url, content_type, text, "
        + "acl_tenant_wide, acl_users, acl_groups, attributes, modified_at, content_hash, "
        + "bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::boolean, $9::text[], $10::text[], "
        + "$11::jsonb, \(SQLValues.timestampSQL(12)), decode($13, 'hex'), $14::bigint) "
        + "ON CONFLICT (source, external_id) DO NOTHING RETURNING id",
      [
        newID, document.source, document.externalID, document.title, document.url,
        document.contentType, document.text, access.tenantWide ? "true" : "false",
        SQLValues.textArray(access.users), SQLValues.textArray(access.groups),
        SQLValues.json(document.attributes), document.modifiedAtMicros.map { "\($0)" },
        document.contentHash.hex, "\(document.bytes)",
      ])
    if inserted.first != nil {
      try insertChunks(document, id: newID, in: transaction)
      result.id = newID
      result.version = 1
      result.changed = true
      return StoreOutcome(result: result, addedDocuments: 1, addedBytes: document.bytes)
    }

    // Another transaction inserted it after the batch's lookup: replace its row instead.
    let winner = try transaction.query(
      storedColumns + "WHERE source = $1 AND external_id = $2 FOR UPDATE",
      [document.source, document.externalID])
    guard let row = winner.first else {
      throw KnowledgeError(.unavailable, "the document changed concurrently; try again")
    }
    return try replace(document, stored: row, result: result, in: transaction)
  }

  /// Updates a stored document when anything differs.
  private static func replace(
    _ document: PreparedDocument, stored row: PostgresRow,
    result: Kp_Knowledge_V1_UpsertResult, in transaction: DatabaseTransaction
  ) throws -> StoreOutcome {
    var result = result
    let id = row["id"] ?? ""
    let access =
      document.access
      ?? (
        row["acl_tenant_wide"] == "t", SQLValues.decode([String].self, row["users"]) ?? [],
        SQLValues.decode([String].self, row["groups"]) ?? []
      )
    let contentChanged = row["hash"] != document.contentHash.hex
    let unchanged =
      !contentChanged && row["url"] == document.url
      && row["content_type"] == document.contentType
      && row["acl_tenant_wide"] == (access.tenantWide ? "t" : "f")
      && SQLValues.decode([String].self, row["users"]) == access.users
      && SQLValues.decode([String].self, row["groups"]) == access.groups
      && SQLValues.decode([String: String].self, row["attributes"]) == document.attributes
      && Int64(row["modified"] ?? "") == (document.modifiedAtMicros ?? 0)
    result.id = id
    if unchanged {
      result.version = UInt64(row["version"] ?? "") ?? 0
      result.changed = false
      return StoreOutcome(result: result, addedDocuments: 0, addedBytes: 0)
    }
    let updated = try transaction.query(
      "UPDATE documents SET title = $2, url = $3, content_type = $4, text = $5, "
        + "acl_tenant_wide = $6::boolean, acl_users = $7::text[], acl_groups = $8::text[], "
        + "attributes = $9::jsonb, modified_at = \(SQLValues.timestampSQL(10)), "
        + "content_hash = decode($11, 'hex'), bytes = $12::bigint, version = version + 1, "
        + "updated_at = now() WHERE id = $1 RETURNING version",
      [
        id, document.title, document.url, document.contentType, document.text,
        access.tenantWide ? "true" : "false", SQLValues.textArray(access.users),
        SQLValues.textArray(access.groups), SQLValues.json(document.attributes),
        document.modifiedAtMicros.map { "\($0)" }, document.contentHash.hex, "\(document.bytes)",
      ])
    if contentChanged {
      try transaction.query("DELETE FROM chunks WHERE document_id = $1", [id])
      try insertChunks(document, id: id, in: transaction)
    }
    result.version = UInt64(updated.first?["version"] ?? "") ?? 0
    result.changed = true
    let previousBytes = Int(row["bytes"] ?? "") ?? 0
    return StoreOutcome(
      result: result, addedDocuments: 0, addedBytes: document.bytes - previousBytes)
  }

  /// Inserts a document's chunks in one statement, indexed with the tenant's configuration.
  private static func insertChunks(
    _ document: PreparedDocument, id: String, in transaction: DatabaseTransaction
  ) throws {
    try transaction.query(
      "INSERT INTO chunks (document_id, ordinal, heading_path, text, search_config, "
        + "search_title, search_headings) "
        + "SELECT $1, (e.n - 1)::integer, "
        + "ARRAY(SELECT jsonb_array_elements_text(e.chunk -> 'h')), e.chunk ->> 't', "
        + "\(SQLValues.searchConfigSQL), $2, e.chunk ->> 's' "
        + "FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(chunk, n)",
      [id, document.title, SQLValues.json(document.chunks)])
  }

  /// Adjusts the tenant's usage counters, which quotas read.
  static func count(
    documents: Int, bytes: Int, in transaction: DatabaseTransaction
  ) throws {
    guard documents != 0 || bytes != 0 else { return }
    try transaction.query(
      "UPDATE usage_counters SET value = GREATEST(value + CASE name WHEN 'documents' "
        + "THEN $1::bigint ELSE $2::bigint END, 0), updated_at = now() "
        + "WHERE name IN ('documents', 'stored_bytes')",
      ["\(documents)", "\(bytes)"])
  }
}
