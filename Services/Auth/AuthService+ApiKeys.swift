import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTokens

extension AuthService {
  private static let apiKeySelectSQL = """
    SELECT id, name, prefix, scopes, created_by, revoked_at IS NOT NULL AS revoked,
      \(PostgresValues.microsSQL("created_at")) AS created,
      coalesce(\(PostgresValues.microsSQL("expires_at")), 0) AS expires,
      coalesce(\(PostgresValues.microsSQL("last_used_at")), 0) AS last_used
    FROM auth_api_keys
    """

  private static func apiKey(_ row: PostgresRow, tenantID: String) -> Kp_Auth_V1_ApiKey {
    var key = Kp_Auth_V1_ApiKey()
    key.id = row["id"] ?? ""
    key.tenantId = tenantID
    key.name = row["name"] ?? ""
    key.prefix = row["prefix"] ?? ""
    // Scope names are plain words, so the array's text form is `{search,ingest}`.
    let scopes = (row["scopes"] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "{}"))
    key.scopes = scopes.isEmpty ? [] : scopes.split(separator: ",").map(String.init)
    key.createdBy = row["created_by"] ?? ""
    key.revoked = row["revoked"] == "t"
    key.createdAtMicros = micros(row["created"])
    key.expiresAtMicros = micros(row["expires"])
    key.lastUsedAtMicros = micros(row["last_used"])
    return key
  }

  func createApiKey(
    _ request: Kp_Auth_V1_CreateApiKeyRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_CreateApiKeyResponse {
    let principal = try await authenticate(context)
    let tenantID = try tenant(request.tenantId, for: principal)
    let name = request.name.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !name.isEmpty, name.count <= 100 else {
      throw AuthError(.invalidArgument, "an API key needs a name of 1 to 100 characters")
    }
    let scopes = try ApiKeyScope.parse(request.scopes).map(\.rawValue)
    let nowMicros = Int64(Date().timeIntervalSince1970 * 1_000_000)
    guard request.expiresAtMicros == 0 || request.expiresAtMicros > nowMicros else {
      throw AuthError(.invalidArgument, "expires_at_micros is in the past")
    }
    let secret: OpaqueSecret
    do {
      secret = try OpaqueSecret.generate(kind: OpaqueSecret.apiKeyKind, locator: tenantID)
    } catch {
      throw AuthError(.internalFailure, "an API key could not be made")
    }
    let id = try Self.newID("k_")
    let source = source(context)
    let expires: String? =
      request.expiresAtMicros == 0
      ? nil : String(format: "%.6f", Double(request.expiresAtMicros) / 1_000_000)
    let key = try await inTenant(tenantID) { transaction in
      try transaction.query(
        "INSERT INTO auth_api_keys (id, name, prefix, secret_hash, scopes, created_by, "
          + "expires_at) VALUES ($1, $2, $3, $4, $5::text[], $6, "
          + "\(PostgresValues.timestampSQL(7)))",
        [
          id, name, secret.displayPrefix, PostgresValues.bytea(secret.hash),
          PostgresValues.textArray(scopes), principal.actor, expires,
        ])
      try Self.audit(
        transaction, actor: principal.actor, action: "api_key.create", target: id,
        source: source, detail: "scopes=\(scopes.joined(separator: " "))")
      let rows = try transaction.query(Self.apiKeySelectSQL + " WHERE id = $1", [id])
      return Self.apiKey(rows[0], tenantID: tenantID)
    }
    logger.info("api key created", ["tenant": tenantID, "key_id": id, "actor": principal.actor])
    var response = Kp_Auth_V1_CreateApiKeyResponse()
    response.key = key
    response.secret = secret.text
    return response
  }

  func listApiKeys(
    _ request: Kp_Auth_V1_ListApiKeysRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_ListApiKeysResponse {
    let principal = try await authenticate(context)
    let tenantID = try tenant(request.tenantId, for: principal)
    let rows = try await inTenant(tenantID) { transaction in
      try transaction.query(Self.apiKeySelectSQL + " ORDER BY created_at, id")
    }
    var response = Kp_Auth_V1_ListApiKeysResponse()
    response.keys = rows.map { Self.apiKey($0, tenantID: tenantID) }
    return response
  }

  func revokeApiKey(
    _ request: Kp_Auth_V1_RevokeApiKeyRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_RevokeApiKeyResponse {
    let principal = try await authenticate(context)
    let tenantID = try tenant(request.tenantId, for: principal)
    let keyID = request.keyId
    let source = source(context)
    try await inTenant(tenantID) { transaction in
      let rows = try transaction.query(
        "UPDATE auth_api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 "
          + "RETURNING id",
        [keyID])
      guard !rows.isEmpty else { throw AuthError(.notFound, "no such API key") }
      try Self.audit(
        transaction, actor: principal.actor, action: "api_key.revoke", target: keyID,
        source: source)
    }
    return Kp_Auth_V1_RevokeApiKeyResponse()
  }

  /// Verifies an API key and records its use.
  func apiKeyPrincipal(_ text: String) async throws(AuthError) -> Principal {
    let refused = AuthError(.unauthenticated, "the API key is not valid")
    guard let presented = try? OpaqueSecret(parsing: text, kind: OpaqueSecret.apiKeyKind)
    else { throw refused }
    let tenantID = presented.locator
    do {
      _ = try await tenants.usable(id: tenantID)
    } catch  where error.code == .notFound {
      throw refused
    }
    let row = try await inTenant(tenantID) { transaction -> PostgresRow? in
      let rows = try transaction.query(
        Self.apiKeySelectSQL.replacingOccurrences(of: "SELECT id,", with: "SELECT id, secret_hash,")
          + " WHERE secret_hash = $1 AND revoked_at IS NULL "
          + "AND (expires_at IS NULL OR expires_at > now())",
        [PostgresValues.bytea(presented.hash)])
      guard let row = rows.first else { return nil }
      // Recording every use would write on every request; once a minute is enough.
      try transaction.query(
        "UPDATE auth_api_keys SET last_used_at = now() WHERE id = $1 AND "
          + "(last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
        [row["id"] ?? ""])
      return row
    }
    guard let row, let stored = PostgresValues.bytes(row["secret_hash"]),
      presented.matches(storedHash: stored)
    else { throw refused }
    let key = Self.apiKey(row, tenantID: tenantID)
    return Principal(
      tenantID: tenantID, userID: "", apiKeyID: key.id,
      role: key.scopes.contains(ApiKeyScope.admin.rawValue) ? UserRole.admin.rawValue : "",
      groups: [], scopes: key.scopes, expiresAtMicros: key.expiresAtMicros)
  }
}
