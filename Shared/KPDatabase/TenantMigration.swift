/// One versioned change to every tenant's schema.
///
/// The SQL runs with the tenant's role and with the search path set to the tenant's schema, so
/// unqualified names create and alter the tenant's own tables, owned by its role. It runs in
/// one transaction together with the record of the new version: it is applied completely, once,
/// or not at all. Migrations must not name schemas; they must stay valid while the platform
/// serves traffic (add columns with defaults, create indexes on tables that are small per
/// tenant).
public struct TenantMigration: Sendable, Hashable {
  /// The version the schema is at after this migration: 1, 2, 3, … without gaps.
  public let version: Int

  /// The service whose tables the migration changes, such as `tenants` or `auth`.
  public let owner: String

  /// A short description, such as `users and groups`.
  public let summary: String

  /// The statements.
  public let sql: String

  /// Makes a migration.
  ///
  /// - Parameters:
  ///   - version: The version after this migration.
  ///   - owner: The service owning the tables changed.
  ///   - summary: A short description.
  ///   - sql: The statements.
  public init(version: Int, owner: String, summary: String, sql: String) {
    self.version = version
    self.owner = owner
    self.summary = summary
    self.sql = sql
  }
}
