public import KPDatabase
public import KPLogging

/// The database settings every service that uses PostgreSQL takes, and the clusters and
/// tenant directory they describe.
///
/// A deployment with one cluster sets `--database-url`; one with several lists them all with
/// `--database-clusters main=postgresql://…,second=postgresql://…`, the first of which holds
/// the tenant registry.
public enum DatabaseSettings {
  /// The settings, with their defaults.
  public static let settings: [Setting] = [
    Setting(
      "database-url",
      help: "The PostgreSQL cluster holding the tenant registry and tenants, when only one is "
        + "used (libpq URL).",
      valueName: "url", default: "postgresql://postgres@127.0.0.1:55432/postgres"),
    Setting(
      "database-clusters",
      help: "Every PostgreSQL cluster as name=url pairs separated by commas; the first holds "
        + "the tenant registry. Empty uses main=<database-url>.",
      valueName: "list", default: ""),
    Setting(
      "database-pool-size", help: "Connections each service keeps open to each cluster at most.",
      valueName: "count", default: "10"),
    Setting(
      "database-acquire-timeout-seconds",
      help: "How long a request waits for a free database connection.", valueName: "seconds",
      default: "10"),
    Setting(
      "database-tenants-per-connection",
      help: "A connection that has worked for this many tenants is replaced, bounding the "
        + "catalog cache each PostgreSQL backend keeps.",
      valueName: "count", default: "2000"),
    Setting(
      "database-connection-lifetime-seconds",
      help: "A connection older than this is replaced.", valueName: "seconds", default: "1800"),
    Setting(
      "tenant-cache-seconds",
      help: "How stale a cached tenant record (state, plan, placement) may be.",
      valueName: "seconds", default: "5"),
  ]

  /// The clusters the settings name, each with a pool configured from the settings.
  ///
  /// - Parameters:
  ///   - configuration: The resolved settings.
  ///   - applicationName: Shown in `pg_stat_activity`, such as `kp-tenants`.
  ///   - logger: Passed to the pools.
  /// - Returns: The clusters.
  /// - Throws: ``ConfigurationError`` naming the setting that is wrong.
  public static func clusters(
    _ configuration: ServiceConfiguration, applicationName: String, logger: Logger
  ) throws(ConfigurationError) -> DatabaseClusters {
    var template = ConnectionPoolConfiguration(url: "")
    template.applicationName = applicationName
    template.maximumConnections = try configuration.integer("database-pool-size", in: 1...1000)
    template.acquireTimeout = .seconds(
      try configuration.integer("database-acquire-timeout-seconds", in: 1...3600))
    template.maximumTenantsPerConnection = try configuration.integer(
      "database-tenants-per-connection", in: 1...1_000_000)
    template.maximumLifetime = .seconds(
      try configuration.integer("database-connection-lifetime-seconds", in: 1...604_800))

    let list = configuration.value("database-clusters") ?? ""
    do {
      let clusters =
        list.isEmpty
        ? [DatabaseClusters.Cluster(name: "main", url: try configuration.string("database-url"))]
        : try DatabaseClusters.parse(list)
      return try DatabaseClusters(clusters: clusters, template: template, logger: logger)
    } catch let error as DatabaseError {
      throw ConfigurationError(
        code: .invalidValue, message: "setting 'database-clusters': \(error.message)")
    } catch let error as ConfigurationError {
      throw error
    } catch {
      throw ConfigurationError(code: .invalidValue, message: "\(error)")
    }
  }

  /// How stale a cached tenant record may be, from `tenant-cache-seconds`.
  ///
  /// - Parameter configuration: The resolved settings.
  /// - Returns: The bound.
  /// - Throws: ``ConfigurationError`` for a value out of range.
  public static func tenantCacheStaleness(
    _ configuration: ServiceConfiguration
  ) throws(ConfigurationError) -> Duration {
    .seconds(try configuration.integer("tenant-cache-seconds", in: 0...3600))
  }
}
