import Foundation
import KPProtocol
import KPRPC
import KPTokens

extension AuthService {
  /// The published public keys, for offline verification.
  func listSigningKeys() -> Kp_Auth_V1_ListSigningKeysResponse {
    var response = Kp_Auth_V1_ListSigningKeysResponse()
    response.keys = keys.verificationKeys.keys.values.sorted { $0.keyID < $1.keyID }.map { key in
      var message = Kp_Auth_V1_SigningKey()
      message.keyId = key.keyID
      message.algorithm = "EdDSA"
      message.publicKey = key.publicKey.derRepresentation
      message.notAfterMicros =
        key.retiredAt.map { Int64($0.timeIntervalSince1970 * 1_000_000) } ?? 0
      return message
    }
    return response
  }

  func verifyToken(
    _ request: Kp_Auth_V1_VerifyTokenRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_VerifyTokenResponse {
    var token = Substring(request.token)
    if token.lowercased().hasPrefix("bearer ") { token = token.dropFirst(7) }
    let principal = try await principal(for: String(token))
    var message = Kp_Auth_V1_Principal()
    message.tenantId = principal.tenantID
    message.userId = principal.userID
    message.apiKeyId = principal.apiKeyID
    message.role = UserRole.wire(forName: principal.role)
    message.groups = principal.groups
    message.scopes = principal.scopes
    message.expiresAtMicros = principal.expiresAtMicros
    var response = Kp_Auth_V1_VerifyTokenResponse()
    response.principal = message
    return response
  }

  func listAuditEvents(
    _ request: Kp_Auth_V1_ListAuditEventsRequest, _ context: ServerContext
  ) async throws(AuthError) -> Kp_Auth_V1_ListAuditEventsResponse {
    let principal = try await authenticate(context)
    let tenantID = try tenant(request.tenantId, for: principal)
    let pageSize = request.pageSize == 0 ? 100 : min(Int(request.pageSize), 1000)
    guard request.pageToken.isEmpty || (Int64(request.pageToken) ?? 0) > 0 else {
      throw AuthError(.invalidArgument, "page_token is not one this service returned")
    }
    let before = request.pageToken.isEmpty ? String(Int64.max) : request.pageToken
    let rows = try await inTenant(tenantID) { transaction in
      try transaction.query(
        "SELECT id, \(PostgresValues.microsSQL("at")) AS at_micros, actor, action, target, "
          + "source, outcome, detail FROM auth_audit_log WHERE id < $1::bigint "
          + "ORDER BY id DESC LIMIT $2",
        [before, String(pageSize + 1)])
    }
    var response = Kp_Auth_V1_ListAuditEventsResponse()
    response.events = rows.prefix(pageSize).map { row in
      var event = Kp_Auth_V1_AuditEvent()
      event.id = Int64(row["id"] ?? "") ?? 0
      event.atMicros = Self.micros(row["at_micros"])
      event.actor = row["actor"] ?? ""
      event.action = row["action"] ?? ""
      event.target = row["target"] ?? ""
      event.source = row["source"] ?? ""
      event.outcome = row["outcome"] ?? ""
      event.detail = row["detail"] ?? ""
      return event
    }
    if rows.count > pageSize, let last = response.events.last {
      response.nextPageToken = String(last.id)
    }
    return response
  }
}
