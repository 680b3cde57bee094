import Foundation
import KPDatabase
import KPProtocol
import KPRPC

extension AuthService {
  /// Checks group names and returns their lookup keys (trimmed, NFC, lowercased), deduplicated.
  static func groupKeys(_ names: [String]) throws(AuthError) -> [String] {
    var keys: [String] = []
    for name in names {
      let key = try groupName(name).precomposedStringWithCanonicalMapping.lowercased()
      if !keys.contains(key) { keys.append(key) }
    }
    return keys
  }

  /// A group name, trimmed: 1 to 100 characters without control characters.
  static func groupName(_ text: String) throws(AuthError) -> String {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
      .precomposedStringWithCanonicalMapping
    guard !trimmed.isEmpty, trimmed.count <= 100,
      !trimmed.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) })
    else {
      throw AuthError(
        .invalidArgument, "a group name is 1 to 100 characters without control characters")
    }
    return trimmed
  }

  /// The ids of the groups with these keys; fails naming the first that does not exist.
  static func groupIDs(_ keys: [String], _ transaction: DatabaseTransaction) throws -> [String] {
    guard !keys.isEmpty else { return [] }
    let rows = try transaction.query(
      "SELECT id, name_key FROM auth_groups WHERE name_key = ANY($1::text[])",
      [PostgresValues.textArray(keys)])
    var byKey: [String: String] = [:]
    for row in rows { byKey[row["name_key"] ?? ""] = row["id"] ?? "" }
    for key in keys where byKey[key] == nil {
      throw AuthError(.notFound, "no group named '\(key.prefix(100))'")
    }
    return keys.compactMap { byKey[$0] }
  }

  /// The groups with their members, optionally only one.
  static func groups(
    _ transaction: DatabaseTransaction, tenantID: String, id: String? = nil
  ) throws -> [Kp_Auth_V1_Group] {
    let rows = try transaction.query(
      """
      SELECT g.id, g.name, g.description, \(PostgresValues.microsSQL("g.created_at")) AS created,
        coalesce((SELECT string_agg(m.user_id, ',' ORDER BY m.user_id)
          FROM auth_group_members m WHERE m.group_id = g.id), '') AS members
      FROM auth_groups g WHERE $1::text IS NULL OR g.id = $1 ORDER BY g.name_key
      """, [id])
    return rows.map { row in
      var group = Kp_Auth_V1_Group()
      group.id = row["id"] ?? ""
      group.tenantId = tenantID
      group.name = row["name"] ?? ""
      group.description = row["description"] ?? ""
      group.createdAtMicros = micros(row["created"])
      let members = row["members"] ?? ""
      group.memberIds = members.isEmpty ? [] : members.split(separator: ",").map(String.init)
      return group
    }
  }

  func createGroup(
    _ request: Kp_Auth_V1_CreateGroupRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_CreateGroupResponse {
    let principal = try await authenticate(context)
    let tenantID = try tenant(request.tenantId, for: principal)
    let name = try Self.groupName(request.name)
    let description = String(request.description.prefix(500))
    let id = try Self.newID("g_")
    let source = source(context)
    let group = try await inTenant(tenantID) { transaction in
      let inserted = try transaction.query(
        "INSERT INTO auth_groups (id, name, name_key, description) VALUES ($1, $2, $3, $4) "
          + "ON CONFLICT (name_key) DO NOTHING",
        [id, name, name.lowercased(), description])
      guard inserted.affectedRowCount == 1 else {
        throw AuthError(.alreadyExists, "a group with this name already exists in the tenant")
      }
      try Self.audit(
        transaction, actor: principal.actor, action: "group.create", target: id, source: source,
        detail: "name=\(name)")
      return try Self.groups(transaction, tenantID: tenantID, id: id)[0]
    }
    var response = Kp_Auth_V1_CreateGroupResponse()
    response.group = group
    return response
  }

  func listGroups(
    _ request: Kp_Auth_V1_ListGroupsRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_ListGroupsResponse {
    let principal = try await authenticate(context)
    let tenantID = try tenant(request.tenantId, for: principal)
    var response = Kp_Auth_V1_ListGroupsResponse()
    response.groups = try await inTenant(tenantID) { transaction in
      try Self.groups(transaction, tenantID: tenantID)
    }
    return response
  }

  func deleteGroup(
    _ request: Kp_Auth_V1_DeleteGroupRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_DeleteGroupResponse {
    let principal = try await authenticate(context)
    let tenantID = try tenant(request.tenantId, for: principal)
    let groupID = request.groupId
    let source = source(context)
    try await inTenant(tenantID) { transaction in
      let deleted = try transaction.query("DELETE FROM auth_groups WHERE id = $1", [groupID])
      guard deleted.affectedRowCount == 1 else { throw AuthError(.notFound, "no such group") }
      try Self.audit(
        transaction, actor: principal.actor, action: "group.delete", target: groupID,
        source: source)
    }
    return Kp_Auth_V1_DeleteGroupResponse()
  }

  func changeGroupMembers(
    _ request: Kp_Auth_V1_ChangeGroupMembersRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_ChangeGroupMembersResponse {
    let principal = try await authenticate(context)
    let tenantID = try tenant(request.tenantId, for: principal)
    let groupID = request.groupId
    let add = request.addUserIds
    let remove = request.removeUserIds
    let source = source(context)
    let group = try await inTenant(tenantID) { transaction in
      let found = try transaction.query(
        "SELECT id FROM auth_groups WHERE id = $1 FOR UPDATE", [groupID])
      guard !found.isEmpty else { throw AuthError(.notFound, "no such group") }
      if !add.isEmpty {
        let users = try transaction.query(
          "SELECT id FROM auth_users WHERE id = ANY($1::text[])", [PostgresValues.textArray(add)])
        let existing = Set(users.compactMap { $0["id"] ?? nil })
        if let missing = add.first(where: { !existing.contains($0) }) {
          throw AuthError(.notFound, "no user with id '\(missing.prefix(40))'")
        }
        try transaction.query(
          "INSERT INTO auth_group_members (group_id, user_id) "
            + "SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
          [groupID, PostgresValues.textArray(add)])
      }
      if !remove.isEmpty {
        try transaction.query(
          "DELETE FROM auth_group_members WHERE group_id = $1 AND user_id = ANY($2::text[])",
          [groupID, PostgresValues.textArray(remove)])
      }
      try Self.audit(
        transaction, actor: principal.actor, action: "group.members", target: groupID,
        source: source, detail: "added=\(add.count),removed=\(remove.count)")
      return try Self.groups(transaction, tenantID: tenantID, id: groupID)[0]
    }
    var response = Kp_Auth_V1_ChangeGroupMembersResponse()
    response.group = group
    return response
  }
}
