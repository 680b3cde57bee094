import KPHTTP
import KPProtocol

extension GatewayAPI {
  /// `POST /v1/tenants/{slug}/users`: the platform administrator or a tenant admin of that
  /// tenant adds a user; answers the user without any password hash.
  func createUser(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    let caller = try request.verified
    if !caller.isPlatformAdmin { try caller.require(.admin) }
    let body = try JSONBody(request.http)
    var message = Kp_Auth_V1_CreateUserRequest()
    message.email = try body.requiredString("email")
    message.password = try body.requiredString("password")
    message.role = try role(try body.requiredString("role"))
    message.groups = try body.strings("groups") ?? []
    message.displayName = try body.string("name") ?? ""

    let found = try await tenant(slug: request.parameter("slug"), usage: false, for: request)
    guard let tenant = found.tenant else { throw .notFound("no such tenant") }
    guard caller.isPlatformAdmin || tenant.id == caller.tenantID else {
      throw .notFound("no such tenant")
    }
    message.tenantId = tenant.id
    try await ensureGroups(message.groups, tenantID: tenant.id, for: request)
    let response = try await call(
      upstreams.auth, Kp_Auth_V1_Auth.createUser, message, for: request,
      forwardCredential: true)
    guard let user = response.user else {
      throw GatewayError("INTERNAL", "auth answered without the user")
    }
    return try json(APIObjects.user(user), status: .created)
  }

  /// `GET /v1/users`: one page of the tenant's users.
  func listUsers(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    let caller = try request.verified
    try caller.require(.admin)
    var message = Kp_Auth_V1_ListUsersRequest()
    message.tenantId = caller.tenantID
    message.pageSize = UInt32(try request.limit())
    message.pageToken = request.pageToken
    let response = try await call(
      upstreams.auth, Kp_Auth_V1_Auth.listUsers, message, for: request, forwardCredential: true)
    return try json(
      APIObjects.page(response.users.map(APIObjects.user), next: response.nextPageToken))
  }

  /// `GET /v1/users/{id}`: one user of the tenant; another tenant's id is 404.
  func getUser(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    let caller = try request.verified
    try caller.require(.admin)
    var message = Kp_Auth_V1_GetUserRequest()
    message.tenantId = caller.tenantID
    message.userId = request.parameter("id")
    let response = try await call(
      upstreams.auth, Kp_Auth_V1_Auth.getUser, message, for: request, forwardCredential: true)
    guard let user = response.user else { throw .notFound("no such user") }
    return try json(APIObjects.user(user))
  }

  /// `PATCH /v1/users/{id} {role?, groups?, disabled?, name?, password?}`.
  func updateUser(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    let caller = try request.verified
    try caller.require(.admin)
    let body = try JSONBody(request.http)
    var message = Kp_Auth_V1_UpdateUserRequest()
    message.tenantId = caller.tenantID
    message.userId = request.parameter("id")
    var fields: [String] = []
    if let role = try body.string("role") {
      message.role = try self.role(role)
      fields.append("role")
    }
    if let groups = try body.strings("groups") {
      message.groups = groups
      fields.append("groups")
    }
    if let disabled = try body.bool("disabled") {
      message.disabled = disabled
      fields.append("disabled")
    }
    if let name = try body.string("name") {
      message.displayName = name
      fields.append("display_name")
    }
    if let password = try body.string("password") {
      message.password = password
      fields.append("password")
    }
    guard !fields.isEmpty else {
      throw .unprocessable("send at least one of role, groups, disabled, name, password")
    }
    message.updateFields = fields
    try await ensureGroups(message.groups, tenantID: caller.tenantID, for: request)
    let response = try await call(
      upstreams.auth, Kp_Auth_V1_Auth.updateUser, message, for: request,
      forwardCredential: true)
    guard let user = response.user else { throw .notFound("no such user") }
    return try json(APIObjects.user(user))
  }

  /// `DELETE /v1/users/{id}`.
  func deleteUser(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    let caller = try request.verified
    try caller.require(.admin)
    var message = Kp_Auth_V1_DeleteUserRequest()
    message.tenantId = caller.tenantID
    message.userId = request.parameter("id")
    _ = try await call(
      upstreams.auth, Kp_Auth_V1_Auth.deleteUser, message, for: request, forwardCredential: true)
    return noContent()
  }

  /// `GET /v1/audit`: one page of the tenant's audit log.
  func audit(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    let caller = try request.verified
    try caller.require(.admin)
    var message = Kp_Auth_V1_ListAuditEventsRequest()
    message.tenantId = caller.tenantID
    message.pageSize = UInt32(try request.limit())
    message.pageToken = request.pageToken
    let response = try await call(
      upstreams.auth, Kp_Auth_V1_Auth.listAuditEvents, message, for: request,
      forwardCredential: true)
    return try json(
      APIObjects.page(
        response.events.map(APIObjects.auditEvent), next: response.nextPageToken))
  }

  /// Creates the named groups the tenant does not have yet: users are put in groups by name.
  func ensureGroups(
    _ names: [String], tenantID: String, for request: RouteRequest
  ) async throws(GatewayError) {
    guard !names.isEmpty else { return }
    var list = Kp_Auth_V1_ListGroupsRequest()
    list.tenantId = tenantID
    let existing = try await call(
      upstreams.auth, Kp_Auth_V1_Auth.listGroups, list, for: request, forwardCredential: true)
    let known = Set(existing.groups.map(\.name))
    for name in Set(names).subtracting(known).sorted() {
      var create = Kp_Auth_V1_CreateGroupRequest()
      create.tenantId = tenantID
      create.name = name
      do {
        _ = try await call(
          upstreams.auth, Kp_Auth_V1_Auth.createGroup, create, for: request,
          forwardCredential: true)
      } catch  where error.code == "ALREADY_EXISTS" {
        continue
      }
    }
  }

  /// The wire role of a role name, or 422.
  func role(_ name: String) throws(GatewayError) -> Kp_Auth_V1_Role {
    guard let role = APIObjects.role(named: name) else {
      throw .unprocessable("'role' must be owner, admin, editor, member or viewer")
    }
    return role
  }
}
