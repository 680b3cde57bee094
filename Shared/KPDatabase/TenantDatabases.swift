/// The front door to tenants' data for every service: finds where a tenant lives and runs work
/// in that tenant's scope there.
///
/// ```swift
/// let databases = TenantDatabases(clusters: clusters, directory: directory)
/// let titles = try await databases.withTenant(tenantID) { transaction in
///   try transaction.query("SELECT title FROM documents WHERE id = $1", [documentID])
/// }
/// ```
public final class TenantDatabases: Sendable {
  /// The clusters and their pools.
  public let clusters: DatabaseClusters

  /// Where tenants are placed, cached with bounded staleness.
  public let directory: TenantDirectory

  /// Combines clusters with a directory.
  ///
  /// - Parameters:
  ///   - clusters: The configured clusters.
  ///   - directory: Where tenants live.
  public init(clusters: DatabaseClusters, directory: TenantDirectory) {
    self.clusters = clusters
    self.directory = directory
  }

  /// Runs `body` in a transaction scoped to the tenant (its role and search path set locally)
  /// on the cluster that holds it.
  ///
  /// - Parameters:
  ///   - tenantID: The tenant's id.
  ///   - body: The transaction's statements.
  /// - Returns: What `body` returns.
  /// - Throws: ``DatabaseError`` with code `tenantNotFound` when the tenant is unknown, deleted
  ///   or not yet provisioned; otherwise what ``ConnectionPool/withTenant(_:_:)`` throws.
  @discardableResult
  public func withTenant<Result: Sendable>(
    _ tenantID: String,
    _ body: @escaping @Sendable (DatabaseTransaction) throws -> Result
  ) async throws -> Result {
    guard let record = try await directory.record(for: tenantID), record.state.hasData else {
      throw DatabaseError(
        code: .tenantNotFound, message: "no tenant with id '\(tenantID.prefix(40))'")
    }
    let scope = try record.scope()
    return try await clusters.pool(record.cluster).withTenant(scope, body)
  }
}
