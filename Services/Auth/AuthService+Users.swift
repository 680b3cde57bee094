import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTokens

extension AuthService {
  /// The select list that ``user(_:tenantID:)`` reads; append `WHERE …`.
  static let userSelectSQL = """
    SELECT u.id, u.email, u.display_name, u.role, u.disabled,
      \(PostgresValues.microsSQL("u.created_at")) AS created,
      coalesce((SELECT string_agg(g.name, E'\\x1f' ORDER BY g.name)
        FROM auth_group_members m JOIN auth_groups g ON g.id = m.group_id
        WHERE m.user_id = u.id), '') AS groups
    FROM auth_users u
    """

  /// A user message from a row selected with ``userSelectSQL``.
  static func user(_ row: PostgresRow, tenantID: String) -> Kp_Auth_V1_User {
    var user = Kp_Auth_V1_User()
    user.id = row["id"] ?? ""
    user.tenantId = tenantID
    user.email = row["email"] ?? ""
    user.displayName = row["display_name"] ?? ""
    user.role = UserRole(rawValue: row["role"] ?? "")?.wire ?? .unspecified
    user.disabled = row["disabled"] == "t"
    user.createdAtMicros = micros(row["created"])
    let groups = row["groups"] ?? ""
    user.groups = groups.isEmpty ? [] : groups.split(separator: "\u{1F}").map(String.init)
    return user
  }

  func createUser(
    _ request: Kp_Auth_V1_CreateUserRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_CreateUserResponse {
    let principal = try await authenticate(context)
    let tenantID = try tenant(request.tenantId, for: principal)
    let email = try EmailAddress(request.email)
    guard let role = UserRole(request.role) else {
      throw AuthError(.invalidArgument, "role must be owner, admin, editor, member or viewer")
    }
    if role == .owner { try requireOwner(principal) }
    let displayName = try Self.displayName(request.displayName)
    let groupKeys = try Self.groupKeys(request.groups)
    let passwordHash = try await newPasswordHash(request.password)
    let id = try Self.newID("u_")
    let source = source(context)

    let user = try await inTenant(tenantID) { transaction in
      let groupIDs = try Self.groupIDs(groupKeys, transaction)
      let inserted = try transaction.query(
        "INSERT INTO auth_users (id, email, email_key, display_name, role, password_hash) "
          + "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email_key) DO NOTHING",
        [id, email.text, email.key, displayName, role.rawValue, passwordHash])
      guard inserted.affectedRowCount == 1 else {
        throw AuthError(.alreadyExists, "a user with this email already exists in the tenant")
      }
      for groupID in groupIDs {
        try transaction.query(
          "INSERT INTO auth_group_members (group_id, user_id) VALUES ($1, $2)", [groupID, id])
      }
      try Self.audit(
        transaction, actor: principal.actor, action: "user.create", target: id, source: source,
        detail: "role=\(role.rawValue)")
      let rows = try transaction.query(Self.userSelectSQL + " WHERE u.id = $1", [id])
      return Self.user(rows[0], tenantID: tenantID)
    }
    logger.info("user created", ["tenant": tenantID, "user": id, "actor": principal.actor])
    var response = Kp_Auth_V1_CreateUserResponse()
    response.user = user
    return response
  }

  func getUser(
    _ request: Kp_Auth_V1_GetUserRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_GetUserResponse {
    let principal = try await authenticate(context)
    // Anyone may read their own user; reading others takes an admin.
    let isSelf = !principal.userID.isEmpty && principal.userID == request.userId
    let tenantID = try tenant(request.tenantId, for: principal, adminOnly: !isSelf)
    let userID = request.userId
    let rows = try await inTenant(tenantID) { transaction in
      try transaction.query(Self.userSelectSQL + " WHERE u.id = $1", [userID])
    }
    guard let row = rows.first else { throw AuthError(.notFound, "no such user") }
    var response = Kp_Auth_V1_GetUserResponse()
    response.user = Self.user(row, tenantID: tenantID)
    return response
  }

  func listUsers(
    _ request: Kp_Auth_V1_ListUsersRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_ListUsersResponse {
    let principal = try await authenticate(context)
    let tenantID = try tenant(request.tenantId, for: principal)
    let pageSize = request.pageSize == 0 ? 50 : min(Int(request.pageSize), 500)
    let after = request.pageToken
    guard after.isEmpty || Self.isUserID(after) else {
      throw AuthError(.invalidArgument, "page_token is not one this service returned")
    }
    let rows = try await inTenant(tenantID) { transaction in
      try transaction.query(
        Self.userSelectSQL + " WHERE u.id > $1 ORDER BY u.id LIMIT $2",
        [after, String(pageSize + 1)])
    }
    var response = Kp_Auth_V1_ListUsersResponse()
    response.users = rows.prefix(pageSize).map { Self.user($0, tenantID: tenantID) }
    if rows.count > pageSize, let last = response.users.last {
      response.nextPageToken = last.id
    }
    return response
  }

  /// Whether `text` has the form of a user id (`u_` and 12 random bytes in hexadecimal).
  static func isUserID(_ text: String) -> Bool {
    text.hasPrefix("u_") && Hex.decode(text.dropFirst(2))?.count == 12
  }

  func updateUser(
    _ request: Kp_Auth_V1_UpdateUserRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_UpdateUserResponse {
    let principal = try await authenticate(context)
    let tenantID = try tenant(request.tenantId, for: principal)
    let known: Set = ["display_name", "role", "groups", "disabled", "password"]
    let fields = Set(
      request.updateFields.isEmpty
        ? ["display_name", "role", "groups", "disabled"] : request.updateFields)
    if let unknown = fields.subtracting(known).first {
      throw AuthError(
        .invalidArgument,
        "update_fields names '\(unknown.prefix(32))'; known: display_name, role, groups, "
          + "disabled, password")
    }
    let displayName =
      fields.contains("display_name")
      ? try Self.displayName(request.displayName) : nil
    var requestedRole: UserRole?
    if fields.contains("role") {
      guard let wanted = UserRole(request.role) else {
        throw AuthError(.invalidArgument, "role must be owner, admin, editor, member or viewer")
      }
      requestedRole = wanted
    }
    let role = requestedRole
    let groupKeys = fields.contains("groups") ? try Self.groupKeys(request.groups) : nil
    let disabled = fields.contains("disabled") ? request.disabled : nil
    let passwordHash =
      fields.contains("password")
      ? try await newPasswordHash(request.password) : nil
    let userID = request.userId
    let source = source(context)
    let callerIsOwner = principal.isPlatformAdmin || principal.role == UserRole.owner.rawValue

    let user = try await inTenant(tenantID) { transaction in
      let current = try transaction.query(
        "SELECT role, disabled FROM auth_users WHERE id = $1 FOR UPDATE", [userID])
      guard let existing = current.first, let oldRole = UserRole(rawValue: existing["role"] ?? "")
      else { throw AuthError(.notFound, "no such user") }
      var changes: [String] = []

      if let role, role != oldRole {
        if role == .owner || oldRole == .owner {
          guard callerIsOwner else {
            throw AuthError(.permissionDenied, "only an owner may grant or remove the owner role")
          }
        }
        if oldRole == .owner { try Self.requireAnotherOwner(besides: userID, transaction) }
        try transaction.query(
          "UPDATE auth_users SET role = $2, updated_at = now() WHERE id = $1",
          [userID, role.rawValue])
        try Self.audit(
          transaction, actor: principal.actor, action: "user.role_change", target: userID,
          source: source, detail: "role=\(oldRole.rawValue)->\(role.rawValue)")
      }
      if let displayName {
        try transaction.query(
          "UPDATE auth_users SET display_name = $2, updated_at = now() WHERE id = $1",
          [userID, displayName])
        changes.append("display_name")
      }
      if let disabled, disabled != (existing["disabled"] == "t") {
        if disabled && oldRole == .owner {
          try Self.requireAnotherOwner(besides: userID, transaction)
        }
        try transaction.query(
          "UPDATE auth_users SET disabled = $2, updated_at = now() WHERE id = $1",
          [userID, disabled ? "true" : "false"])
        if disabled { try Self.revokeSessions(of: userID, transaction) }
        changes.append(disabled ? "disabled" : "enabled")
      }
      if let groupKeys {
        let groupIDs = try Self.groupIDs(groupKeys, transaction)
        try transaction.query("DELETE FROM auth_group_members WHERE user_id = $1", [userID])
        for groupID in groupIDs {
          try transaction.query(
            "INSERT INTO auth_group_members (group_id, user_id) VALUES ($1, $2)",
            [groupID, userID])
        }
        changes.append("groups")
      }
      if let passwordHash {
        try transaction.query(
          "UPDATE auth_users SET password_hash = $2, updated_at = now() WHERE id = $1",
          [userID, passwordHash])
        try Self.revokeSessions(of: userID, transaction)
        changes.append("password")
      }
      if !changes.isEmpty {
        try Self.audit(
          transaction, actor: principal.actor, action: "user.update", target: userID,
          source: source, detail: changes.joined(separator: ","))
      }
      let rows = try transaction.query(Self.userSelectSQL + " WHERE u.id = $1", [userID])
      return Self.user(rows[0], tenantID: tenantID)
    }
    var response = Kp_Auth_V1_UpdateUserResponse()
    response.user = user
    return response
  }

  func deleteUser(
    _ request: Kp_Auth_V1_DeleteUserRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_DeleteUserResponse {
    let principal = try await authenticate(context)
    let tenantID = try tenant(request.tenantId, for: principal)
    let userID = request.userId
    let source = source(context)
    let callerIsOwner = principal.isPlatformAdmin || principal.role == UserRole.owner.rawValue
    try await inTenant(tenantID) { transaction in
      let current = try transaction.query(
        "SELECT role FROM auth_users WHERE id = $1 FOR UPDATE", [userID])
      guard let row = current.first else { throw AuthError(.notFound, "no such user") }
      if row["role"] == UserRole.owner.rawValue {
        guard callerIsOwner else {
          throw AuthError(.permissionDenied, "only an owner may remove an owner")
        }
        try Self.requireAnotherOwner(besides: userID, transaction)
      }
      try transaction.query("DELETE FROM auth_users WHERE id = $1", [userID])
      try Self.audit(
        transaction, actor: principal.actor, action: "user.delete", target: userID,
        source: source)
    }
    return Kp_Auth_V1_DeleteUserResponse()
  }

  // MARK: - Helpers

  func requireOwner(_ principal: Principal) throws(AuthError) {
    guard principal.isPlatformAdmin || principal.role == UserRole.owner.rawValue else {
      throw AuthError(.permissionDenied, "only an owner may grant the owner role")
    }
  }

  /// Hashes a new password after checking its length; `nil` for an empty password.
  func newPasswordHash(_ password: String) async throws(AuthError) -> String? {
    guard !password.isEmpty else { return nil }
    guard password.count >= options.minimumPasswordLength else {
      throw AuthError(
        .invalidArgument,
        "a password needs at least \(options.minimumPasswordLength) characters")
    }
    return try await hasher.hash(password)
  }

  static func displayName(_ text: String) throws(AuthError) -> String {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard trimmed.count <= 200,
      !trimmed.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) })
    else {
      throw AuthError(
        .invalidArgument, "a display name is at most 200 characters without control characters")
    }
    return trimmed
  }

  /// Fails unless the tenant keeps an enabled owner other than `userID`.
  static func requireAnotherOwner(
    besides userID: String, _ transaction: DatabaseTransaction
  ) throws {
    let owners = try transaction.query(
      "SELECT id FROM auth_users WHERE role = 'owner' AND NOT disabled AND id <> $1 FOR UPDATE",
      [userID])
    guard !owners.isEmpty else {
      throw AuthError(
        .failedPrecondition, "the tenant's last owner cannot be removed, disabled or demoted")
    }
  }

  /// Revokes every refresh token of a user.
  static func revokeSessions(of userID: String, _ transaction: DatabaseTransaction) throws {
    try transaction.query(
      "UPDATE auth_refresh_tokens SET revoked_at = now() "
        + "WHERE user_id = $1 AND revoked_at IS NULL",
      [userID])
  }
}
