import KPHTTP
import KPProtocol

extension GatewayAPI {
  /// `POST /v1/api-keys {name, scopes, expires_at?}`: the secret is in this answer only.
  func createAPIKey(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    let caller = try request.verified
    try caller.require(.admin)
    let body = try JSONBody(request.http)
    var message = Kp_Auth_V1_CreateApiKeyRequest()
    message.tenantId = caller.tenantID
    message.name = try body.requiredString("name")
    let scopes = try body.strings("scopes", required: true) ?? []
    for scope in scopes where VerifiedCaller.Scope(rawValue: scope) == nil {
      throw .unprocessable("'scopes' may hold only search, ingest and admin")
    }
    message.scopes = scopes
    message.expiresAtMicros = try body.timestampMicros("expires_at") ?? 0
    let response = try await call(
      upstreams.auth, Kp_Auth_V1_Auth.createApiKey, message, for: request,
      forwardCredential: true)
    guard let key = response.key else {
      throw GatewayError("INTERNAL", "auth answered without the key")
    }
    var object = APIObjects.apiKey(key)
    object["secret"] = response.secret
    return try json(object, status: .created)
  }

  /// `GET /v1/api-keys`: the tenant's keys, without secrets.
  func listAPIKeys(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    let caller = try request.verified
    try caller.require(.admin)
    var message = Kp_Auth_V1_ListApiKeysRequest()
    message.tenantId = caller.tenantID
    let response = try await call(
      upstreams.auth, Kp_Auth_V1_Auth.listApiKeys, message, for: request,
      forwardCredential: true)
    return try json(APIObjects.page(response.keys.map(APIObjects.apiKey), next: ""))
  }

  /// `DELETE /v1/api-keys/{id}`: revokes a key; the gateway forgets its cached answers.
  func revokeAPIKey(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    let caller = try request.verified
    try caller.require(.admin)
    var message = Kp_Auth_V1_RevokeApiKeyRequest()
    message.tenantId = caller.tenantID
    message.keyId = request.parameter("id")
    _ = try await call(
      upstreams.auth, Kp_Auth_V1_Auth.revokeApiKey, message, for: request,
      forwardCredential: true)
    authenticator.forgetAPIKeys()
    return noContent()
  }
}
