import Foundation
import KPDatabase
import KPLogging
import KPProtocol
import KPRPC
import KPTokens

/// `kp.auth.v1.Auth`: users, groups, sign-in, refresh tokens, API keys, signing keys and the
/// audit log, for every tenant.
///
/// Calls come from other mesh services (normally the gateway). Methods that manage a tenant
/// take the caller's credential from the `authorization` metadata entry (`Bearer <access
/// token or API key>`), verify it here, and act only within the credential's tenant: an id of
/// another tenant is simply not found. The platform administrator's token may act on any
/// tenant named in the request.
struct AuthService: RPCService {
  /// Tunable behaviour, from configuration.
  struct Options: Sendable {
    /// How long access tokens live, at most 15 minutes. Default: 15 minutes.
    var accessTokenLifetime: TimeInterval = AccessToken.maximumLifetime
    /// How long a refresh token may be unused before it expires. Default: 30 days.
    var refreshTokenLifetime: TimeInterval = 30 * 86_400
    /// The platform administrator's email key and argon2id hash; `nil` disables the account.
    var platformAdmin: (emailKey: String, passwordHash: String)?
    /// The shortest password accepted for a user. Default: 12.
    var minimumPasswordLength = 12
  }

  let databases: TenantDatabases
  let tenants: TenantAccess
  let keys: SigningKeyStore
  let hasher: PasswordHasher
  let throttles: LoginThrottles
  let options: Options
  let logger: Logger

  func register(into table: inout MethodTable) {
    let callers = CallerPolicy.anyAuthenticated
    table.unary(Kp_Auth_V1_Auth.createUser, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in try await createUser(request, context) }
    }
    table.unary(Kp_Auth_V1_Auth.getUser, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in try await getUser(request, context) }
    }
    table.unary(Kp_Auth_V1_Auth.listUsers, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in try await listUsers(request, context) }
    }
    table.unary(Kp_Auth_V1_Auth.updateUser, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in try await updateUser(request, context) }
    }
    table.unary(Kp_Auth_V1_Auth.deleteUser, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in try await deleteUser(request, context) }
    }
    table.unary(Kp_Auth_V1_Auth.login, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in try await login(request, context) }
    }
    table.unary(Kp_Auth_V1_Auth.refresh, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in try await refresh(request, context) }
    }
    table.unary(Kp_Auth_V1_Auth.logout, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in try await logout(request, context) }
    }
    table.unary(Kp_Auth_V1_Auth.createApiKey, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in try await createApiKey(request, context) }
    }
    table.unary(Kp_Auth_V1_Auth.listApiKeys, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in try await listApiKeys(request, context) }
    }
    table.unary(Kp_Auth_V1_Auth.revokeApiKey, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in try await revokeApiKey(request, context) }
    }
    table.unary(Kp_Auth_V1_Auth.listSigningKeys, callers: callers) { _, _ in
      listSigningKeys()
    }
    table.unary(Kp_Auth_V1_Auth.verifyToken, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in try await verifyToken(request, context) }
    }
    table.unary(Kp_Auth_V1_Auth.createGroup, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in try await createGroup(request, context) }
    }
    table.unary(Kp_Auth_V1_Auth.listGroups, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in try await listGroups(request, context) }
    }
    table.unary(Kp_Auth_V1_Auth.deleteGroup, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in try await deleteGroup(request, context) }
    }
    table.unary(Kp_Auth_V1_Auth.changeGroupMembers, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in
        try await changeGroupMembers(request, context)
      }
    }
    table.unary(Kp_Auth_V1_Auth.listAuditEvents, callers: callers) { request, context in
      try await handle { () async throws(AuthError) in
        try await listAuditEvents(request, context)
      }
    }
  }

  /// Runs a handler, turning its ``AuthError`` into the call's status.
  private func handle<Response>(
    _ body: () async throws(AuthError) -> Response
  ) async throws(RPCError) -> Response {
    do {
      return try await body()
    } catch {
      if error.code == .internalFailure || error.code == .unavailable {
        logger.error("request failed", ["code": "\(error.code)", "error": error.message])
      }
      throw error.rpcError
    }
  }
}
