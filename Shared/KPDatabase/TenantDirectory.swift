import Synchronization

/// Finds tenants' records (state, plan quotas, placement) for any service, with a cache whose
/// answers are at most ``maximumStaleness`` old.
///
/// A suspension, a plan change or a deletion is therefore seen everywhere within that bound.
/// The records come from a source: ``registry(_:maximumStaleness:)`` reads the registry tables
/// directly; a service without access to them passes a source that asks the tenant registry
/// service.
///
/// ```swift
/// let directory = TenantDirectory.registry(clusters.registry)
/// if let tenant = try await directory.record(for: id), tenant.state == .active { … }
/// ```
public final class TenantDirectory: Sendable {
  /// Loads one tenant's record; `nil` when there is no such tenant.
  public typealias Source = @Sendable (String) async throws -> TenantRecord?

  private struct Entry {
    let record: TenantRecord?
    let fetchedAt: ContinuousClock.Instant
  }

  /// The oldest answer the directory gives: a cached record older than this is loaded again.
  public let maximumStaleness: Duration

  /// The most records kept.
  public let capacity: Int

  private let source: Source
  private let cache = Mutex<[String: Entry]>([:])

  /// Makes a directory.
  ///
  /// - Parameters:
  ///   - maximumStaleness: How old a cached answer may be. Default 5 seconds. An answer of
  ///     "no such tenant" is kept for at most one second, so a new tenant is seen quickly.
  ///   - capacity: How many records to keep. Default 10,000.
  ///   - source: Loads a record.
  public init(
    maximumStaleness: Duration = .seconds(5), capacity: Int = 10_000,
    source: @escaping Source
  ) {
    self.maximumStaleness = maximumStaleness
    self.capacity = max(1, capacity)
    self.source = source
  }

  /// A directory reading the registry tables through a pool on the registry's cluster.
  ///
  /// - Parameters:
  ///   - pool: A pool on the cluster holding the registry.
  ///   - maximumStaleness: How old a cached answer may be. Default 5 seconds.
  /// - Returns: The directory.
  public static func registry(
    _ pool: ConnectionPool, maximumStaleness: Duration = .seconds(5)
  ) -> TenantDirectory {
    TenantDirectory(maximumStaleness: maximumStaleness) { id in
      guard TenantScope.isValidTenantID(id) else { return nil }
      return try await pool.withConnection { connection in
        let rows = try connection.query(TenantRecord.selectSQL + " WHERE t.id = $1", [id])
        return rows.first.map(TenantRecord.init(row:))
      }
    }
  }

  /// A tenant's record, from the cache when fresh enough.
  ///
  /// - Parameter tenantID: The tenant's id.
  /// - Returns: The record, or `nil` when no tenant has this id.
  /// - Throws: What the source throws.
  public func record(for tenantID: String) async throws -> TenantRecord? {
    let now = ContinuousClock.now
    let cached = cache.withLock { $0[tenantID] }
    if let cached {
      let limit = cached.record == nil ? min(maximumStaleness, .seconds(1)) : maximumStaleness
      if cached.fetchedAt.duration(to: now) < limit { return cached.record }
    }

    let record = try await source(tenantID)
    cache.withLock { entries in
      if entries.count >= capacity { evict(&entries, now: now) }
      entries[tenantID] = Entry(record: record, fetchedAt: now)
    }
    return record
  }

  /// Forgets a tenant, so the next lookup loads it again.
  ///
  /// - Parameter tenantID: The tenant's id.
  public func invalidate(_ tenantID: String) {
    _ = cache.withLock { $0.removeValue(forKey: tenantID) }
  }

  /// Drops expired entries, and when that is not enough, the older half.
  private func evict(_ entries: inout [String: Entry], now: ContinuousClock.Instant) {
    entries = entries.filter { $0.value.fetchedAt.duration(to: now) < maximumStaleness }
    guard entries.count >= capacity else { return }
    let sorted = entries.sorted { $0.value.fetchedAt < $1.value.fetchedAt }
    for (key, _) in sorted.prefix(entries.count / 2 + 1) { entries.removeValue(forKey: key) }
  }
}
