/// What the registry records about one tenant, as services see it.
public struct TenantRecord: Sendable, Hashable {
  /// The opaque, stable id.
  public var id: String
  /// The unique short name chosen at creation.
  public var slug: String
  /// The name people see.
  public var displayName: String
  /// The plan's id, such as `team`.
  public var planID: String
  /// The tenant's state.
  public var state: TenantState
  /// The database cluster holding the tenant's schema.
  public var cluster: String
  /// The schema version the registry last recorded for the tenant.
  public var schemaVersion: Int
  /// Creation time, in microseconds since the Unix epoch.
  public var createdAtMicros: Int64
  /// The quotas in effect: the plan's, with the tenant's overrides applied.
  public var quotas: TenantQuotas
  /// Why the tenant is suspended; empty unless it is.
  public var suspendedReason: String

  /// The tenant's database names.
  ///
  /// - Throws: ``DatabaseError`` with code `invalidIdentifier` when the stored id is malformed.
  public func scope() throws(DatabaseError) -> TenantScope {
    try TenantScope(tenantID: id)
  }

  /// The select list and source that ``init(row:)`` reads, joined with the plan; append a
  /// `WHERE` clause.
  public static let selectSQL = """
    SELECT t.id, t.slug, t.display_name, t.plan_id, t.state, t.cluster, t.schema_version,
      t.suspended_reason,
      (extract(epoch FROM t.created_at) * 1000000)::bigint AS created_micros,
      coalesce(t.override_requests_per_second, p.requests_per_second) AS rps,
      coalesce(t.override_burst, p.burst) AS burst,
      coalesce(t.override_max_documents, p.max_documents) AS max_documents,
      coalesce(t.override_max_stored_bytes, p.max_stored_bytes) AS max_stored_bytes,
      coalesce(t.override_max_document_bytes, p.max_document_bytes) AS max_document_bytes
    FROM kp_registry.tenants t JOIN kp_registry.plans p ON p.id = t.plan_id
    """

  /// Reads a row selected with ``selectSQL``.
  ///
  /// - Parameter row: The row.
  public init(row: PostgresRow) {
    func number(_ column: String) -> Int { Int(row[column] ?? "") ?? 0 }
    id = row["id"] ?? ""
    slug = row["slug"] ?? ""
    displayName = row["display_name"] ?? ""
    planID = row["plan_id"] ?? ""
    state = TenantState(name: row["state"] ?? "")
    cluster = row["cluster"] ?? ""
    schemaVersion = number("schema_version")
    createdAtMicros = Int64(row["created_micros"] ?? "") ?? 0
    suspendedReason = row["suspended_reason"] ?? ""
    quotas = TenantQuotas(
      requestsPerSecond: number("rps"), burst: number("burst"),
      maximumDocuments: number("max_documents"), maximumStoredBytes: number("max_stored_bytes"),
      maximumDocumentBytes: number("max_document_bytes"))
  }
}
