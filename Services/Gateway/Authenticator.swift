import Foundation
import KPLogging
import KPProtocol
import KPRPC
import KPTokens
import Synchronization

/// Verifies the bearer credential of every request.
///
/// Access tokens are verified offline against auth's published signing keys, fetched again
/// when a token names a key id not yet known (at most once a second) and every minute. A token
/// once verified is remembered (``VerifiedTokenCache``) until it expires or the keys are fetched
/// again, so a client sending the same token many times (a flood over its rate limit, say)
/// costs one signature check, not one per request. API keys are checked by auth's
/// `VerifyToken`, whose answers are kept for a few seconds. Offline
/// verification does not see a suspended tenant, so every caller's tenant is looked up in the
/// tenant registry (kept for a few seconds, see ``TenantCache``) and a tenant that is not
/// active is refused.
final class Authenticator: Sendable {
  private struct KeyState {
    var keys = SigningKeySet()
    var fetchedAt: ContinuousClock.Instant?
  }

  private struct CachedKey {
    var caller: VerifiedCaller
    var expires: ContinuousClock.Instant
  }

  private let upstreams: Upstreams
  private let tenants: TenantCache
  private let apiKeyLifetime: Duration
  private let logger: Logger
  private let keyState = Mutex(KeyState())
  private let apiKeys = Mutex([String: CachedKey]())
  private let verifiedTokens = VerifiedTokenCache()

  /// Makes an authenticator.
  ///
  /// - Parameters:
  ///   - upstreams: The channels to auth and the registry.
  ///   - tenants: The tenant state cache.
  ///   - apiKeyLifetime: How long an API key's verification is reused.
  init(upstreams: Upstreams, tenants: TenantCache, apiKeyLifetime: Duration, logger: Logger) {
    self.upstreams = upstreams
    self.tenants = tenants
    self.apiKeyLifetime = apiKeyLifetime
    self.logger = logger
  }

  /// Verifies an `Authorization` header value.
  ///
  /// - Returns: The verified caller, whose tenant is active.
  /// - Throws: ``GatewayError`` 401 for a missing, malformed or refused credential or a
  ///   suspended tenant; 503 when auth or the registry cannot be reached.
  func authenticate(
    _ header: String?, trace: RequestTrace
  ) async throws(GatewayError) -> (VerifiedCaller, TenantCache.Entry?) {
    guard let header, !header.isEmpty else {
      throw .unauthenticated("send 'Authorization: Bearer <access token or API key>'")
    }
    let parts = header.split(separator: " ", maxSplits: 1)
    guard parts.count == 2, parts[0].lowercased() == "bearer" else {
      throw .unauthenticated("the Authorization header must be 'Bearer <credential>'")
    }
    let credential = Self.trimmed(parts[1])
    guard !credential.isEmpty, credential.utf8.count <= 4096 else {
      throw .unauthenticated("the bearer credential is empty or too long")
    }

    let caller: VerifiedCaller
    if credential.hasPrefix(OpaqueSecret.apiKeyKind + "_") {
      caller = try await apiKey(credential, trace: trace)
    } else {
      caller = try await accessToken(credential, trace: trace)
    }
    guard !caller.isPlatformAdmin else { return (caller, nil) }

    let tenant = try await tenants.tenant(id: caller.tenantID, trace: trace)
    guard let tenant, tenant.state != .deleting else {
      throw .unauthenticated("the credential's tenant does not exist")
    }
    guard tenant.state == .active else {
      throw .unauthenticated("the tenant is suspended; its credentials are refused")
    }
    return (caller, tenant)
  }

  /// The text without the spaces and tabs around it; found on its UTF-8 bytes, as this runs
  /// on every request.
  static func trimmed(_ text: Substring) -> String {
    let bytes = text.utf8
    guard let first = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
      let last = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })
    else { return "" }
    return String(decoding: bytes[first...last], as: UTF8.self)
  }

  /// Forgets cached API key answers, after a key was revoked through the gateway.
  func forgetAPIKeys() {
    apiKeys.withLock { $0.removeAll() }
  }

  // MARK: Access tokens

  private func accessToken(
    _ token: String, trace: RequestTrace
  ) async throws(GatewayError) -> VerifiedCaller {
    let now = ContinuousClock.now
    let stale = keyState.withLock { state in
      state.fetchedAt.map { now - $0 > .seconds(60) } ?? true
    }
    if stale { try await refreshKeys(trace: trace, force: false) }

    if let claims = verifiedTokens.claims(for: token) { return caller(claims, token: token) }

    var claims: AccessTokenClaims
    do {
      claims = try verify(token)
    } catch  where error.code == .unknownKey {
      try await refreshKeys(trace: trace, force: true)
      do {
        claims = try verify(token)
      } catch {
        throw .unauthenticated("the access token is refused: \(error.message)")
      }
    } catch {
      throw .unauthenticated("the access token is refused: \(error.message)")
    }
    verifiedTokens.remember(token, claims)
    return caller(claims, token: token)
  }

  private func caller(_ claims: AccessTokenClaims, token: String) -> VerifiedCaller {
    VerifiedCaller(
      tenantID: claims.tenantID, userID: claims.userID, apiKeyID: "", role: claims.role,
      groups: claims.groups, scopes: VerifiedCaller.scopes(forRole: claims.role),
      credential: token)
  }

  private func verify(_ token: String) throws(TokenError) -> AccessTokenClaims {
    let keys = keyState.withLock { $0.keys }
    return try AccessTokenVerifier(keys: keys).verify(token)
  }

  /// Fetches auth's published keys; a forced fetch happens at most once a second.
  private func refreshKeys(trace: RequestTrace, force: Bool) async throws(GatewayError) {
    let now = ContinuousClock.now
    let due = keyState.withLock { state in
      guard let fetched = state.fetchedAt else { return true }
      return force ? now - fetched > .seconds(1) : now - fetched > .seconds(60)
    }
    guard due else { return }
    let published: Kp_Auth_V1_ListSigningKeysResponse
    do {
      published = try await upstreams.auth.unary(
        Kp_Auth_V1_Auth.listSigningKeys, Kp_Auth_V1_ListSigningKeysRequest(),
        options: trace.options(caller: nil, timeout: upstreams.timeout))
    } catch {
      logger.warning("signing keys unavailable", ["error": error.message])
      if keyState.withLock({ $0.fetchedAt == nil }) {
        throw GatewayError("UNAVAILABLE", "the token service cannot be reached; try again")
      }
      return
    }
    var keys = SigningKeySet()
    for key in published.keys {
      guard let publicKey = try? Ed25519PublicKey(derRepresentation: key.publicKey) else {
        continue
      }
      keys.insert(
        SigningKeySet.Key(
          keyID: key.keyId, publicKey: publicKey,
          retiredAt: key.notAfterMicros == 0
            ? nil : Date(timeIntervalSince1970: Double(key.notAfterMicros) / 1_000_000)))
    }
    keyState.withLock { state in
      state.keys = keys
      state.fetchedAt = now
    }
    // A key withdrawn from the published set must stop its tokens at once.
    verifiedTokens.removeAll()
  }

  // MARK: API keys

  private func apiKey(
    _ secret: String, trace: RequestTrace
  ) async throws(GatewayError) -> VerifiedCaller {
    let cacheKey = SHA256.digest(secret).map { String(format: "%02x", $0) }.joined()
    let now = ContinuousClock.now
    if let cached = apiKeys.withLock({ $0[cacheKey] }), cached.expires > now {
      return cached.caller
    }
    var request = Kp_Auth_V1_VerifyTokenRequest()
    request.token = secret
    let principal: Kp_Auth_V1_Principal
    do {
      let response = try await upstreams.auth.unary(
        Kp_Auth_V1_Auth.verifyToken, request,
        options: trace.options(caller: nil, timeout: upstreams.timeout))
      principal = response.principal ?? Kp_Auth_V1_Principal()
    } catch
      where error.code == .unauthenticated || error.code == .notFound
      || error.code == .invalidArgument || error.code == .permissionDenied
    {
      throw .unauthenticated("the API key is refused: \(error.message)")
    } catch {
      throw GatewayError(error)
    }
    guard !principal.tenantId.isEmpty else {
      throw .unauthenticated("the API key is refused")
    }
    let caller = VerifiedCaller(
      tenantID: principal.tenantId, userID: principal.userId, apiKeyID: principal.apiKeyId,
      role: "", groups: principal.groups,
      scopes: Set(principal.scopes.compactMap(VerifiedCaller.Scope.init(rawValue:))),
      credential: secret)
    apiKeys.withLock { cache in
      if cache.count > 10_000 { cache.removeAll() }
      cache[cacheKey] = CachedKey(caller: caller, expires: now + apiKeyLifetime)
    }
    return caller
  }
}
