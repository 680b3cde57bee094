import KPProtocol
import KPRPC
import Synchronization

/// Each tenant's state and request limits from the tenant registry, kept for a few seconds.
///
/// The gateway asks here on every authenticated request, so a suspended tenant is refused
/// within the cache's lifetime, and at once when the suspension went through this gateway
/// (which forgets the entry).
final class TenantCache: Sendable {
  /// What the gateway needs of a tenant.
  struct Entry: Sendable {
    /// The tenant's id.
    var id: String
    /// Its slug.
    var slug: String
    /// Its lifecycle state.
    var state: Kp_Tenants_V1_TenantState
    /// Requests per second its plan allows; 0 for no limit.
    var requestsPerSecond: Int
    /// The burst its plan allows.
    var burst: Int
  }

  private struct Cached {
    var entry: Entry?
    var expires: ContinuousClock.Instant
  }

  private let tenants: RPCChannel
  private let lifetime: Duration
  private let timeout: Duration
  private let cache = Mutex([String: Cached]())

  /// Makes a cache over the registry channel.
  ///
  /// - Parameters:
  ///   - tenants: The channel to kp-tenants.
  ///   - lifetime: How long an answer is reused; zero asks every time.
  ///   - timeout: How long one lookup may take.
  init(tenants: RPCChannel, lifetime: Duration, timeout: Duration) {
    self.tenants = tenants
    self.lifetime = lifetime
    self.timeout = timeout
  }

  /// The tenant with this id, or nil when the registry has none.
  ///
  /// - Throws: ``GatewayError`` 503 when the registry cannot answer.
  func tenant(id: String, trace: RequestTrace) async throws(GatewayError) -> Entry? {
    let now = ContinuousClock.now
    if let cached = cache.withLock({ $0[id] }), cached.expires > now {
      return cached.entry
    }
    var request = Kp_Tenants_V1_GetTenantRequest()
    request.key = .id(id)
    let entry: Entry?
    do {
      let response = try await tenants.unary(
        Kp_Tenants_V1_Tenants.getTenant, request,
        options: trace.options(caller: nil, timeout: timeout))
      entry = response.tenant.map { tenant in
        let quotas = response.effectiveQuotas ?? Kp_Tenants_V1_Quotas()
        return Entry(
          id: tenant.id, slug: tenant.slug, state: tenant.state,
          requestsPerSecond: Int(quotas.requestsPerSecond), burst: Int(quotas.burst))
      }
    } catch  where error.code == .notFound || error.code == .invalidArgument {
      entry = nil
    } catch {
      throw GatewayError("UNAVAILABLE", "the tenant registry cannot be reached; try again")
    }
    if lifetime > .zero {
      cache.withLock { cache in
        if cache.count > 100_000 { cache.removeAll() }
        cache[id] = Cached(entry: entry, expires: now + lifetime)
      }
    }
    return entry
  }

  /// Forgets a tenant, after it changed through this gateway.
  func forget(id: String) {
    _ = cache.withLock { $0.removeValue(forKey: id) }
  }
}
