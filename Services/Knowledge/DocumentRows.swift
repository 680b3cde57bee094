import KPDatabase
import KPProtocol
import KPTokens

/// How documents are selected from the `documents` table and read back into messages.
enum DocumentRows {
  /// The select list for ``document(_:)``, over the table aliased `d`; `$withText` is a
  /// boolean parameter number deciding whether the text is read.
  static func columns(withText parameter: Int) -> String {
    "d.id, d.source, d.external_id, d.title, d.url, d.content_type, "
      + "CASE WHEN $\(parameter)::boolean THEN d.text ELSE '' END AS text, d.acl_tenant_wide, "
      + "to_json(d.acl_users)::text AS acl_users, to_json(d.acl_groups)::text AS acl_groups, "
      + "d.attributes::text AS attributes, \(SQLValues.microsSQL("d.modified_at")) AS modified, "
      + "encode(d.content_hash, 'hex') AS content_hash, d.version"
  }

  /// The condition that the access list admits a caller, over the table aliased `d`, with the
  /// caller's user ids and groups as `text[]` parameters.
  static func admits(users: Int, groups: Int) -> String {
    "(d.acl_tenant_wide OR d.acl_users && $\(users)::text[] "
      + "OR d.acl_groups && $\(groups)::text[])"
  }

  /// A row selected with ``columns(withText:)`` as a message.
  static func document(_ row: PostgresRow) -> Kp_Knowledge_V1_Document {
    var document = Kp_Knowledge_V1_Document()
    document.id = row["id"] ?? ""
    document.source = row["source"] ?? ""
    document.externalId = row["external_id"] ?? ""
    document.title = row["title"] ?? ""
    document.url = row["url"] ?? ""
    document.contentType = row["content_type"] ?? ""
    document.text = row["text"] ?? ""
    var access = Kp_Knowledge_V1_AccessList()
    access.tenantWide = row["acl_tenant_wide"] == "t"
    access.users = SQLValues.decode([String].self, row["acl_users"]) ?? []
    access.groups = SQLValues.decode([String].self, row["acl_groups"]) ?? []
    document.access = access
    document.attributes = SQLValues.decode([String: String].self, row["attributes"]) ?? [:]
    document.modifiedAtMicros = Int64(row["modified"] ?? "") ?? 0
    document.contentHash = Hex.decode(row["content_hash"] ?? "") ?? []
    document.version = UInt64(row["version"] ?? "") ?? 0
    return document
  }
}
