extension TenantMigrator {
  /// One tenant of a migration run: its names and the pool of the cluster holding it.
  public struct Target: Sendable {
    /// The tenant's names.
    public var scope: TenantScope
    /// A pool on the tenant's cluster.
    public var pool: ConnectionPool

    /// Makes a target.
    ///
    /// - Parameters:
    ///   - scope: The tenant's names.
    ///   - pool: A pool on its cluster.
    public init(scope: TenantScope, pool: ConnectionPool) {
      self.scope = scope
      self.pool = pool
    }
  }

  /// Brings many tenants to `version`, at most `concurrency` at a time, reporting each tenant
  /// as it finishes. A failed tenant does not stop the others; running again resumes where an
  /// interrupted run stopped, migrating no tenant twice.
  ///
  /// - Parameters:
  ///   - targets: The tenants.
  ///   - version: The target version.
  ///   - concurrency: How many tenants migrate at once; at least 1.
  ///   - progress: Called after each tenant, one call at a time.
  /// - Returns: The final summary (``TenantMigrationProgress/done`` set).
  public func migrateAll(
    _ targets: [Target],
    to version: Int,
    concurrency: Int,
    progress: @escaping @Sendable (TenantMigrationProgress) async -> Void
  ) async -> TenantMigrationProgress {
    var report = TenantMigrationProgress(totalTenants: targets.count)
    await withTaskGroup(of: (String, Result<Int, any Error>).self) { group in
      var pending = targets.makeIterator()
      func startNext() -> Bool {
        guard let target = pending.next() else { return false }
        group.addTask {
          do {
            let reached = try await migrate(target.scope, to: version, pool: target.pool)
            return (target.scope.tenantID, .success(reached))
          } catch {
            return (target.scope.tenantID, .failure(error))
          }
        }
        return true
      }

      var running = 0
      while running < max(1, concurrency), startNext() { running += 1 }
      for await (tenantID, outcome) in group {
        report.tenantID = tenantID
        switch outcome {
        case .success(let reached):
          report.migratedTenants += 1
          report.schemaVersion = reached
          report.error = ""
        case .failure(let error):
          report.failedTenants += 1
          report.schemaVersion = 0
          report.error = "\(error)"
        }
        await progress(report)
        _ = startNext()
      }
    }
    report.tenantID = ""
    report.schemaVersion = 0
    report.error = ""
    report.done = true
    return report
  }
}
