import Foundation
import KPHTTP
import KPProtocol

extension GatewayAPI {
  /// `POST /v1/auth/login {tenant, email, password}`: anyone signs in.
  func login(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    let body = try JSONBody(request.http)
    var message = Kp_Auth_V1_LoginRequest()
    message.tenantSlug = try body.string("tenant") ?? ""
    message.email = try body.requiredString("email")
    message.password = try body.requiredString("password")
    let response: Kp_Auth_V1_LoginResponse
    do {
      response = try await call(upstreams.auth, Kp_Auth_V1_Auth.login, message, for: request)
    } catch  where error.code == "RESOURCE_EXHAUSTED" {
      // Sign-in throttling: auth says how long in the call's `retry-after-seconds` trailer.
      throw .busy(error.message, retryAfterSeconds: error.retryAfterSeconds ?? 1)
    }
    guard let tokens = response.tokens else {
      throw GatewayError("INTERNAL", "auth answered without tokens")
    }
    return try json(APIObjects.tokens(tokens, now: Self.nowMicros))
  }

  /// `POST /v1/auth/refresh {refresh_token}`: rotates a refresh token.
  func refresh(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    let body = try JSONBody(request.http)
    var message = Kp_Auth_V1_RefreshRequest()
    message.refreshToken = try body.requiredString("refresh_token")
    let response = try await call(upstreams.auth, Kp_Auth_V1_Auth.refresh, message, for: request)
    guard let tokens = response.tokens else {
      throw GatewayError("INTERNAL", "auth answered without tokens")
    }
    return try json(APIObjects.tokens(tokens, now: Self.nowMicros))
  }

  /// `POST /v1/auth/logout {refresh_token?}` with the bearer: revokes the refresh token.
  func logout(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    let caller = try request.verified
    var message = Kp_Auth_V1_LogoutRequest()
    if !request.http.body.isEmpty {
      let token = try JSONBody(request.http).string("refresh_token") ?? ""
      // A refresh token of another tenant is not this caller's to revoke.
      let prefix = "kpr_\(caller.tenantID)_"
      if caller.isPlatformAdmin || token.hasPrefix(prefix) { message.refreshToken = token }
    }
    _ = try await call(
      upstreams.auth, Kp_Auth_V1_Auth.logout, message, for: request, forwardCredential: true)
    return noContent()
  }

  /// Now, in microseconds since the Unix epoch.
  static var nowMicros: Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }
}
