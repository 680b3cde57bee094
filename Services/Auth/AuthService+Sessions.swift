import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTokens

extension AuthService {
  /// What a refresh attempt found, decided inside its transaction and acted on after commit.
  private enum RefreshOutcome: Sendable {
    case issued(user: Kp_Auth_V1_User, refresh: String, refreshExpires: Date)
    case reused
    case refused
  }

  /// The message of every failed sign-in, whatever failed: it never says whether the email
  /// exists.
  static let loginRefused = "the email or password is wrong"

  func login(
    _ request: Kp_Auth_V1_LoginRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_LoginResponse {
    let source = source(context)
    let emailKey = EmailAddress.key(request.email)
    let slug = request.tenantSlug.trimmingCharacters(in: .whitespaces).lowercased()
    let account = slug + "\u{0}" + emailKey
    let now = Date()
    let clientAddress = context.metadata[Self.clientAddressKey].flatMap {
      $0.isEmpty ? nil : String($0.prefix(100))
    }
    try throttles.check(account: account, source: clientAddress, now: now)

    if slug.isEmpty {
      return try await platformAdminLogin(
        request, emailKey: emailKey, account: account, source: source,
        clientAddress: clientAddress, now: now)
    }

    // An unknown tenant costs the same hash as an unknown user.
    guard let tenant = try await tenants.usable(slug: slug) else {
      _ = await hasher.verify(request.password, against: nil)
      throttles.failed(account: account, source: clientAddress, now: now)
      throw AuthError(.unauthenticated, Self.loginRefused)
    }
    let tenantID = tenant.id
    let rows = try await inTenant(tenantID) { transaction in
      try transaction.query(
        "SELECT id, password_hash, disabled FROM auth_users WHERE email_key = $1", [emailKey])
    }
    let row = rows.first
    let storedHash = row?["password_hash"] ?? nil
    let matched = await hasher.verify(request.password, against: storedHash)
    guard matched, let row, row["disabled"] != "t", let userID = row["id"] ?? nil else {
      throttles.failed(account: account, source: clientAddress, now: now)
      let target = row?["id"] ?? nil
      try await inTenant(tenantID) { transaction in
        try Self.audit(
          transaction, actor: String(request.email.prefix(254)), action: "login",
          target: target ?? "", source: source, outcome: "failure")
      }
      logger.info("login refused", ["tenant": tenantID, "source": source])
      throw AuthError(.unauthenticated, Self.loginRefused)
    }
    throttles.succeeded(account: account)

    let rehash =
      storedHash.map(hasher.needsRehash) == true ? try? await hasher.hash(request.password) : nil
    let refresh = try newRefreshToken(tenantID: tenantID)
    let familyID = try Self.newID("f_")
    let tokenID = try Self.newID("r_")
    let refreshExpires = now.addingTimeInterval(options.refreshTokenLifetime)
    let user = try await inTenant(tenantID) { transaction in
      if let rehash {
        try transaction.query(
          "UPDATE auth_users SET password_hash = $2 WHERE id = $1", [userID, rehash])
      }
      try Self.storeRefreshToken(
        transaction, id: tokenID, family: familyID, userID: userID, secret: refresh,
        expires: refreshExpires)
      try Self.audit(
        transaction, actor: userID, action: "login", target: userID, source: source)
      let rows = try transaction.query(Self.userSelectSQL + " WHERE u.id = $1", [userID])
      return Self.user(rows[0], tenantID: tenantID)
    }
    logger.info("login", ["tenant": tenantID, "user": userID, "source": source])
    var response = Kp_Auth_V1_LoginResponse()
    response.tokens = try tokenPair(
      for: user, now: now, refresh: refresh.text, refreshExpires: refreshExpires)
    response.user = user
    return response
  }

  func refresh(
    _ request: Kp_Auth_V1_RefreshRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_RefreshResponse {
    let refused = AuthError(.unauthenticated, "the refresh token is not valid; sign in again")
    guard
      let presented = try? OpaqueSecret(
        parsing: request.refreshToken, kind: OpaqueSecret.refreshTokenKind)
    else { throw refused }
    let tenantID = presented.locator
    do {
      _ = try await tenants.usable(id: tenantID)
    } catch  where error.code == .notFound {
      throw refused
    }
    let source = source(context)
    let now = Date()
    let next = try newRefreshToken(tenantID: tenantID)
    let nextID = try Self.newID("r_")
    let lifetime = options.refreshTokenLifetime

    let outcome = try await inTenant(tenantID) { transaction -> RefreshOutcome in
      let rows = try transaction.query(
        "SELECT t.id, t.family_id, t.user_id, t.token_hash, u.disabled, "
          + "t.rotated_at IS NOT NULL AS rotated, t.revoked_at IS NOT NULL AS revoked, "
          + "t.expires_at <= now() AS expired "
          + "FROM auth_refresh_tokens t JOIN auth_users u ON u.id = t.user_id "
          + "WHERE t.token_hash = $1 FOR UPDATE OF t",
        [PostgresValues.bytea(presented.hash)])
      guard let row = rows.first, let stored = PostgresValues.bytes(row["token_hash"]),
        presented.matches(storedHash: stored), let family = row["family_id"] ?? nil,
        let userID = row["user_id"] ?? nil
      else { return .refused }
      if row["revoked"] == "t" || row["expired"] == "t" || row["disabled"] == "t" {
        return .refused
      }
      if row["rotated"] == "t" {
        // A rotated token came back: someone holds a copy. End the whole family.
        try transaction.query(
          "UPDATE auth_refresh_tokens SET revoked_at = now() "
            + "WHERE family_id = $1 AND revoked_at IS NULL",
          [family])
        try Self.audit(
          transaction, actor: userID, action: "refresh.reuse", target: family, source: source,
          outcome: "failure", detail: "refresh token family revoked")
        return .reused
      }
      try transaction.query(
        "UPDATE auth_refresh_tokens SET rotated_at = now() WHERE id = $1", [row["id"] ?? ""])
      let expires = now.addingTimeInterval(lifetime)
      try Self.storeRefreshToken(
        transaction, id: nextID, family: family, userID: userID, secret: next, expires: expires)
      let users = try transaction.query(Self.userSelectSQL + " WHERE u.id = $1", [userID])
      return .issued(
        user: Self.user(users[0], tenantID: tenantID), refresh: next.text,
        refreshExpires: expires)
    }

    switch outcome {
    case .refused:
      throw refused
    case .reused:
      logger.warning("refresh token reused; family revoked", ["tenant": tenantID])
      throw AuthError(
        .unauthenticated,
        "the refresh token was already used; every session from it has been signed out")
    case .issued(let user, let refresh, let refreshExpires):
      var response = Kp_Auth_V1_RefreshResponse()
      response.tokens = try tokenPair(
        for: user, now: now, refresh: refresh, refreshExpires: refreshExpires)
      return response
    }
  }

  func logout(
    _ request: Kp_Auth_V1_LogoutRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_LogoutResponse {
    // Logging out with an unknown or malformed token succeeds and changes nothing.
    guard
      let presented = try? OpaqueSecret(
        parsing: request.refreshToken, kind: OpaqueSecret.refreshTokenKind),
      TenantScope.isValidTenantID(presented.locator)
    else { return Kp_Auth_V1_LogoutResponse() }
    let source = source(context)
    do {
      try await inTenant(presented.locator) { transaction in
        let rows = try transaction.query(
          "UPDATE auth_refresh_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND "
            + "family_id = (SELECT family_id FROM auth_refresh_tokens WHERE token_hash = $1) "
            + "RETURNING user_id",
          [PostgresValues.bytea(presented.hash)])
        if let userID = rows.first?["user_id"] ?? nil {
          try Self.audit(
            transaction, actor: userID, action: "logout", target: userID, source: source)
        }
      }
    } catch  where error.code == .notFound {
      return Kp_Auth_V1_LogoutResponse()
    }
    return Kp_Auth_V1_LogoutResponse()
  }

  // MARK: - Helpers

  private func platformAdminLogin(
    _ request: Kp_Auth_V1_LoginRequest, emailKey: String, account: String, source: String,
    clientAddress: String?, now: Date
  ) async throws(AuthError) -> Kp_Auth_V1_LoginResponse {
    let admin = options.platformAdmin
    let isAdmin = admin != nil && admin?.emailKey == emailKey
    let matched = await hasher.verify(
      request.password, against: isAdmin ? admin?.passwordHash : nil)
    guard isAdmin, matched else {
      throttles.failed(account: account, source: clientAddress, now: now)
      logger.warning("platform admin login refused", ["source": source])
      throw AuthError(.unauthenticated, Self.loginRefused)
    }
    throttles.succeeded(account: account)
    logger.notice("platform admin login", ["source": source])
    var user = Kp_Auth_V1_User()
    user.id = UserRole.platformAdminName
    user.email = request.email
    user.role = .platformAdmin
    var response = Kp_Auth_V1_LoginResponse()
    response.tokens = try tokenPair(for: user, now: now, refresh: "", refreshExpires: nil)
    response.user = user
    return response
  }

  private func newRefreshToken(tenantID: String) throws(AuthError) -> OpaqueSecret {
    do {
      return try OpaqueSecret.generate(kind: OpaqueSecret.refreshTokenKind, locator: tenantID)
    } catch {
      throw AuthError(.internalFailure, "a refresh token could not be made")
    }
  }

  private static func storeRefreshToken(
    _ transaction: DatabaseTransaction, id: String, family: String, userID: String,
    secret: OpaqueSecret, expires: Date
  ) throws {
    try transaction.query(
      "INSERT INTO auth_refresh_tokens (id, family_id, user_id, token_hash, expires_at) "
        + "VALUES ($1, $2, $3, $4, \(PostgresValues.timestampSQL(5)))",
      [id, family, userID, PostgresValues.bytea(secret.hash), PostgresValues.timestamp(expires)])
  }

  /// Signs an access token for a user and pairs it with a refresh token.
  func tokenPair(
    for user: Kp_Auth_V1_User, now: Date, refresh: String, refreshExpires: Date?
  ) throws(AuthError) -> Kp_Auth_V1_TokenPair {
    let role =
      user.role == .platformAdmin
      ? UserRole.platformAdminName : (UserRole(user.role)?.rawValue ?? "")
    let claims = AccessTokenClaims(
      tenantID: user.tenantId, userID: user.id, role: role, groups: user.groups,
      issuedAt: now, lifetime: min(options.accessTokenLifetime, AccessToken.maximumLifetime))
    let token: String
    do {
      token = try keys.ring().sign(claims)
    } catch let error as AuthError {
      throw error
    } catch {
      throw AuthError(.internalFailure, "the access token could not be signed")
    }
    var pair = Kp_Auth_V1_TokenPair()
    pair.accessToken = token
    pair.accessExpiresAtMicros = Int64(claims.expiresAt.timeIntervalSince1970 * 1_000_000)
    pair.refreshToken = refresh
    pair.refreshExpiresAtMicros =
      refreshExpires.map {
        Int64($0.timeIntervalSince1970 * 1_000_000)
      } ?? 0
    return pair
  }
}
