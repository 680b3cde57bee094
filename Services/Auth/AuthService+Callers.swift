import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTokens

extension AuthService {
  /// The metadata entry in which the gateway reports the end client's address, for throttling
  /// and the audit log: `kp-client-address`.
  static let clientAddressKey = "kp-client-address"

  /// Where a request came from: the client address the gateway reported, else the calling
  /// service's identity.
  func source(_ context: ServerContext) -> String {
    if let address = context.metadata[Self.clientAddressKey], !address.isEmpty {
      return String(address.prefix(100))
    }
    return context.peer?.primary ?? "unknown"
  }

  /// The verified principal of the call's `authorization` entry.
  ///
  /// - Throws: ``AuthError`` `unauthenticated` when the entry is missing or the credential is
  ///   refused (with a message that says suspended for a suspended tenant).
  func authenticate(_ context: ServerContext) async throws(AuthError) -> Principal {
    guard let header = context.metadata[MetadataKey.authorization] else {
      throw AuthError(.unauthenticated, "the call has no 'authorization' credential")
    }
    var credential = Substring(header)
    if credential.lowercased().hasPrefix("bearer ") { credential = credential.dropFirst(7) }
    let principal = try await principal(for: String(credential))
    // A tenant in the metadata must agree with the credential's.
    if let tenant = context.metadata[MetadataKey.tenant], !tenant.isEmpty,
      !principal.isPlatformAdmin, tenant != principal.tenantID
    {
      throw AuthError(.notFound, "no such tenant")
    }
    return principal
  }

  /// Verifies an access token or an API key.
  ///
  /// - Throws: ``AuthError`` `unauthenticated` for any refused credential.
  func principal(for credential: String) async throws(AuthError) -> Principal {
    if credential.hasPrefix(OpaqueSecret.apiKeyKind + "_") {
      return try await apiKeyPrincipal(credential)
    }
    let claims: AccessTokenClaims
    do {
      claims = try AccessTokenVerifier(keys: keys.verificationKeys).verify(credential)
    } catch {
      throw AuthError(.unauthenticated, "the access token is refused: \(error.message)")
    }
    let principal = Principal(
      tenantID: claims.tenantID, userID: claims.userID, apiKeyID: "", role: claims.role,
      groups: claims.groups, scopes: claims.scopes,
      expiresAtMicros: Int64(claims.expiresAt.timeIntervalSince1970 * 1_000_000))
    if principal.isPlatformAdmin { return principal }
    do {
      _ = try await tenants.usable(id: claims.tenantID)
    } catch  where error.code == .notFound {
      throw AuthError(.unauthenticated, "the access token's tenant does not exist")
    }
    return principal
  }

  /// The tenant a management call acts on: the credential's own, or for the platform
  /// administrator, the one the request names. A request naming another tenant than the
  /// credential's gets `notFound`, so existence does not leak.
  func tenant(
    _ requested: String, for principal: Principal, adminOnly: Bool = true
  ) throws(AuthError) -> String {
    if adminOnly && !principal.isTenantAdmin {
      throw AuthError(.permissionDenied, "only a tenant admin or owner may do this")
    }
    if principal.isPlatformAdmin {
      guard !requested.isEmpty else {
        throw AuthError(.invalidArgument, "tenant_id is required for the platform admin")
      }
      return requested
    }
    guard requested.isEmpty || requested == principal.tenantID else {
      throw AuthError(.notFound, "no such tenant")
    }
    return principal.tenantID
  }

  /// Runs `body` in a transaction scoped to the tenant, mapping database failures.
  func inTenant<Result: Sendable>(
    _ tenantID: String,
    _ body: @escaping @Sendable (DatabaseTransaction) throws -> Result
  ) async throws(AuthError) -> Result {
    do {
      return try await databases.withTenant(tenantID, body)
    } catch let error as AuthError {
      throw error
    } catch let error as DatabaseError {
      if error.code == .tenantNotFound || error.code == .invalidIdentifier {
        throw AuthError(.notFound, "no such tenant")
      }
      if error.sqlState == "23505" {
        throw AuthError(.alreadyExists, "an object with that name already exists")
      }
      if error.code == .serverError {
        logger.error("database statement failed", ["sqlstate": error.sqlState ?? ""])
        throw AuthError(.internalFailure, "the request failed in the database")
      }
      throw AuthError(.unavailable, "the database cannot be reached; try again")
    } catch {
      throw AuthError(.internalFailure, "the request failed")
    }
  }

  /// Appends an entry to the tenant's audit log inside `transaction`.
  static func audit(
    _ transaction: DatabaseTransaction, actor: String, action: String, target: String = "",
    source: String, outcome: String = "success", detail: String = ""
  ) throws {
    try transaction.query(
      "INSERT INTO auth_audit_log (actor, action, target, source, outcome, detail) "
        + "VALUES ($1, $2, $3, $4, $5, $6)",
      [
        String(actor.prefix(254)), action, target, String(source.prefix(100)), outcome,
        String(detail.prefix(500)),
      ])
  }

  /// A new random id with a type prefix, such as `u_` and 24 hex digits.
  static func newID(_ prefix: String) throws(AuthError) -> String {
    do {
      return prefix + (try SecureRandom.hex(12))
    } catch {
      throw AuthError(.internalFailure, "the random generator failed")
    }
  }

  /// Microseconds since the Unix epoch from a column read with ``PostgresValues/microsSQL(_:)``.
  static func micros(_ text: String?) -> Int64 {
    text.flatMap { Int64($0) } ?? 0
  }
}
