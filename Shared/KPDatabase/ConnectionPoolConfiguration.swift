/// How a ``ConnectionPool`` connects, how many connections it keeps, and when it replaces them.
public struct ConnectionPoolConfiguration: Sendable {
  /// The server, as a libpq URL or connection string. No default.
  public var url: String

  /// A name for logs and thread names, such as the cluster's name. Default `main`.
  public var name = "main"

  /// The most connections open at once; a task asking for more waits. Default 10.
  public var maximumConnections = 10

  /// How long a task waits for a free connection before failing with `poolTimeout`.
  /// Default 10 seconds.
  public var acquireTimeout: Duration = .seconds(10)

  /// How long opening one connection may take. Default 5 seconds.
  public var connectTimeout: Duration = .seconds(5)

  /// A connection older than this is closed when it is next returned, and a fresh one replaces
  /// it. Bounds what a backend accumulates over time. Default 30 minutes.
  public var maximumLifetime: Duration = .seconds(1800)

  /// A connection whose backend has worked for more distinct tenants than this is closed when
  /// it is next returned. PostgreSQL caches the catalog entries of every schema a backend
  /// touches, for the backend's whole life: with a thousand tenants that cache grows from
  /// about 3 MB to 18 MB per backend (measured by `bench/tenants`). Default 2,000: a lower
  /// bound recycles connections while tenants are spread over them, and every recycled backend
  /// starts cold (at 250, lookups over 1,000 tenants ran 1.34 times slower than over one).
  public var maximumTenantsPerConnection = 2000

  /// A connection idle for longer than this is checked with `SELECT 1` before it is lent again;
  /// a dead one is replaced. Default 30 seconds.
  public var healthCheckAfterIdle: Duration = .seconds(30)

  /// Shown in `pg_stat_activity`. Default `knowledgeplane`.
  public var applicationName = "knowledgeplane"

  /// A configuration with the defaults.
  ///
  /// - Parameter url: The server, as a libpq URL or connection string.
  public init(url: String) {
    self.url = url
  }
}
