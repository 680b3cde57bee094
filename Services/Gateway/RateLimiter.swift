import Synchronization

/// Per-tenant token buckets, refilled at the tenant plan's requests per second up to its burst.
final class RateLimiter: Sendable {
  private struct Bucket {
    var tokens: Double
    var updated: ContinuousClock.Instant
  }

  private let buckets = Mutex([String: Bucket]())

  /// An empty limiter.
  init() {}

  /// Takes one token from the tenant's bucket.
  ///
  /// - Parameters:
  ///   - tenant: The tenant's id.
  ///   - rate: Tokens added per second; 0 means no limit.
  ///   - burst: The bucket's size; at least 1 is used.
  /// - Returns: nil when the request may go, else the whole seconds until a token is there.
  func take(tenant: String, rate: Int, burst: Int) -> Int? {
    guard rate > 0 else { return nil }
    let capacity = Double(max(burst, 1))
    let now = ContinuousClock.now
    return buckets.withLock { buckets in
      var bucket = buckets[tenant] ?? Bucket(tokens: capacity, updated: now)
      let elapsed = now - bucket.updated
      let seconds =
        Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
      bucket.tokens = min(capacity, bucket.tokens + seconds * Double(rate))
      bucket.updated = now
      defer { buckets[tenant] = bucket }
      if bucket.tokens >= 1 {
        bucket.tokens -= 1
        return nil
      }
      let wait = (1 - bucket.tokens) / Double(rate)
      return max(1, Int(wait.rounded(.up)))
    }
  }
}
