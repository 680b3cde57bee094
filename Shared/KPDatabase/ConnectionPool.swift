public import KPLogging
import Synchronization

/// A bounded set of connections to one PostgreSQL cluster, lent to one task at a time.
///
/// Connections open lazily, up to ``ConnectionPoolConfiguration/maximumConnections``; a task
/// asking when all are lent waits in line, for at most the acquire timeout. Each connection
/// runs its statements on a thread of its own, so blocking libpq calls never occupy Swift's
/// cooperative threads. A connection is checked before reuse when it sat idle for long, and is
/// replaced when it broke, was left inside a transaction, grew old, or touched many tenants'
/// schemas (see ``ConnectionPoolConfiguration/maximumTenantsPerConnection``).
///
/// Work runs in a closure that receives the connection or a transaction. The closure is
/// synchronous: a transaction never spans an `await`, so it never holds a connection while
/// waiting on something else.
///
/// ```swift
/// let pool = ConnectionPool(configuration: .init(url: url), logger: logger)
/// let count = try await pool.withTenant(scope) { transaction in
///   try transaction.query("SELECT count(*) FROM settings")[0][0]
/// }
/// ```
public final class ConnectionPool: Sendable {
  /// Counts that describe the pool at one moment.
  public struct Statistics: Sendable, Equatable {
    /// Connections open or opening, lent or idle.
    public var open: Int
    /// Connections waiting in the pool.
    public var idle: Int
    /// Tasks waiting for a connection.
    public var waiting: Int
    /// Connections opened since the pool was made.
    public var opened: Int
    /// Connections closed because they broke, aged or touched too many tenants.
    public var retired: Int
  }

  private struct Waiter {
    let id: UInt64
    let continuation: CheckedContinuation<PooledConnection, any Error>
  }

  private struct State {
    var idle: [PooledConnection] = []
    var open = 0
    var waiters: [Waiter] = []
    var nextWaiterID: UInt64 = 0
    var closed = false
    var opened = 0
    var retired = 0
  }

  private enum Decision {
    case lend(PooledConnection)
    case open
    case wait(UInt64)
    case fail(DatabaseError)
  }

  /// The pool's settings.
  public let configuration: ConnectionPoolConfiguration

  private let logger: Logger
  private let state = Mutex(State())

  /// Makes a pool; no connection opens until the first use.
  ///
  /// - Parameters:
  ///   - configuration: Where to connect and how many connections to keep.
  ///   - logger: Receives debug events (opened, retired) and warnings (failed health checks).
  public init(configuration: ConnectionPoolConfiguration, logger: Logger = .disabled) {
    self.configuration = configuration
    self.logger = logger.with(["pool": configuration.name])
  }

  /// The pool's counts now.
  public var statistics: Statistics {
    state.withLock {
      Statistics(
        open: $0.open, idle: $0.idle.count, waiting: $0.waiters.count, opened: $0.opened,
        retired: $0.retired)
    }
  }

  // MARK: - Using a connection

  /// Lends a connection to `body`, on the connection's own thread, then takes it back.
  ///
  /// - Parameter body: Blocking work with the connection. It must leave no transaction open;
  ///   a connection left inside one is closed rather than reused.
  /// - Returns: What `body` returns.
  /// - Throws: ``DatabaseError`` `poolTimeout`, `poolClosed` or `connectionFailed` when no
  ///   connection can be had, and whatever `body` throws.
  @discardableResult
  public func withConnection<Result: Sendable>(
    _ body: @escaping @Sendable (PostgresConnection) throws -> Result
  ) async throws -> Result {
    let leased = try await acquire()
    defer { release(leased) }
    let connection = leased.connection
    return try await leased.worker.run { try body(connection) }
  }

  /// Runs `body` in a transaction: committed when `body` returns, rolled back when it throws.
  ///
  /// - Parameters:
  ///   - isolation: The isolation level. Default `READ COMMITTED`.
  ///   - body: The transaction's statements.
  /// - Returns: What `body` returns.
  /// - Throws: What ``withConnection(_:)`` throws, and the commit's failure.
  @discardableResult
  public func withTransaction<Result: Sendable>(
    isolation: TransactionIsolation = .readCommitted,
    _ body: @escaping @Sendable (DatabaseTransaction) throws -> Result
  ) async throws -> Result {
    try await withConnection { connection in
      try DatabaseTransaction.run(
        on: connection, begin: "BEGIN ISOLATION LEVEL \(isolation.sql)", body)
    }
  }

  /// Runs `body` in a transaction scoped to one tenant: the tenant's role and schema are set
  /// with `SET LOCAL`, so they end with the transaction and nothing carries over to the next
  /// user of the connection.
  ///
  /// Inside, unqualified table names resolve in the tenant's schema, and every statement runs
  /// with the tenant role's privileges: a statement naming another tenant's schema fails with
  /// SQLSTATE `42501` (insufficient privilege).
  ///
  /// - Parameters:
  ///   - scope: The tenant's role and schema.
  ///   - body: The transaction's statements.
  /// - Returns: What `body` returns.
  /// - Throws: What ``withTransaction(isolation:_:)`` throws.
  @discardableResult
  public func withTenant<Result: Sendable>(
    _ scope: TenantScope,
    _ body: @escaping @Sendable (DatabaseTransaction) throws -> Result
  ) async throws -> Result {
    let leased = try await acquire()
    defer { release(leased) }
    leased.tenantsTouched.insert(scope.tenantID)
    let connection = leased.connection
    let begin =
      "BEGIN; SET LOCAL ROLE \(scope.role.quoted); SET LOCAL search_path TO \(scope.schema.quoted)"
    return try await leased.worker.run {
      try DatabaseTransaction.run(on: connection, begin: begin, body)
    }
  }

  /// Closes every idle connection and refuses new work; waiting tasks fail with `poolClosed`.
  /// Lent connections close when they come back.
  public func close() {
    let (idle, waiters) = state.withLock { state in
      state.closed = true
      defer {
        state.retired += state.idle.count
        state.open -= state.idle.count
        state.idle = []
        state.waiters = []
      }
      return (state.idle, state.waiters)
    }
    for connection in idle { connection.retire() }
    for waiter in waiters {
      waiter.continuation.resume(throwing: Self.closedError)
    }
  }

  // MARK: - Lending

  private static let closedError = DatabaseError(
    code: .poolClosed, message: "the connection pool is closed")

  private func acquire() async throws -> PooledConnection {
    for _ in 0..<3 {
      let candidate = try await acquireUnchecked()
      guard candidate.lastReleasedAt.duration(to: .now) > configuration.healthCheckAfterIdle
      else { return candidate }

      let connection = candidate.connection
      let healthy =
        (try? await candidate.worker.run { () throws -> Bool in
          try connection.query("SELECT 1")
          return true
        }) ?? false
      if healthy { return candidate }
      logger.warning("replacing a connection that failed its health check", [:])
      discard(candidate)
    }
    return try await acquireUnchecked()
  }

  private func acquireUnchecked() async throws -> PooledConnection {
    try await withCheckedThrowingContinuation { continuation in
      let decision = state.withLock { state -> Decision in
        if state.closed { return .fail(Self.closedError) }
        if let connection = state.idle.popLast() { return .lend(connection) }
        if state.open < configuration.maximumConnections {
          state.open += 1
          return .open
        }
        let id = state.nextWaiterID
        state.nextWaiterID += 1
        state.waiters.append(Waiter(id: id, continuation: continuation))
        return .wait(id)
      }

      switch decision {
      case .lend(let connection):
        continuation.resume(returning: connection)
      case .fail(let error):
        continuation.resume(throwing: error)
      case .open:
        Task { await self.openConnection(for: continuation) }
      case .wait(let id):
        let timeout = configuration.acquireTimeout
        Task {
          try? await Task.sleep(for: timeout)
          self.expireWaiter(id)
        }
      }
    }
  }

  /// Opens a connection for a slot already counted in `open` and hands it to `continuation`,
  /// or to the pool when `continuation` is nil.
  private func openConnection(
    for continuation: CheckedContinuation<PooledConnection, any Error>?
  ) async {
    do {
      let connection = try await PooledConnection.open(
        url: configuration.url, timeout: configuration.connectTimeout,
        applicationName: configuration.applicationName,
        threadName: "kp-pg-\(configuration.name)")
      state.withLock { $0.opened += 1 }
      logger.debug("opened a connection", ["statistics": "\(statistics)"])
      if let continuation {
        continuation.resume(returning: connection)
      } else {
        release(connection)
      }
    } catch {
      state.withLock { $0.open -= 1 }
      logger.warning("could not open a connection", ["error": "\(error)"])
      continuation?.resume(throwing: error)
    }
  }

  private func expireWaiter(_ id: UInt64) {
    let waiter = state.withLock { state -> Waiter? in
      guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
      return state.waiters.remove(at: index)
    }
    waiter?.continuation.resume(
      throwing: DatabaseError(
        code: .poolTimeout,
        message: "no connection to the '\(configuration.name)' database became free within "
          + "\(configuration.acquireTimeout); all \(configuration.maximumConnections) are in use"))
  }

  /// Takes a connection back: lends it to the first waiting task, keeps it, or replaces it.
  private func release(_ connection: PooledConnection) {
    let age = connection.openedAt.duration(to: .now)
    let worn =
      age > configuration.maximumLifetime
      || connection.tenantsTouched.count > configuration.maximumTenantsPerConnection
    guard connection.connection.isIdle, !worn else {
      if worn {
        logger.debug(
          "retiring a connection",
          ["age": "\(age)", "tenants": "\(connection.tenantsTouched.count)"])
      }
      discard(connection, replace: worn)
      return
    }

    connection.lastReleasedAt = .now
    let next = state.withLock { state -> Waiter? in
      if state.closed { return nil }
      if !state.waiters.isEmpty { return state.waiters.removeFirst() }
      state.idle.append(connection)
      return nil
    }
    if let next {
      next.continuation.resume(returning: connection)
    } else if state.withLock({ $0.closed }) {
      discard(connection)
    }
  }

  /// Closes a connection and frees its slot; opens a replacement for a waiting task, or ahead
  /// of demand when `replace` is set, so a retired connection costs no caller a connect.
  private func discard(_ connection: PooledConnection, replace: Bool = false) {
    connection.retire()
    let (openFor, waiter) = state.withLock {
      state -> (Bool, CheckedContinuation<PooledConnection, any Error>?) in
      state.open -= 1
      state.retired += 1
      guard !state.closed, state.open < configuration.maximumConnections else {
        return (false, nil)
      }
      if !state.waiters.isEmpty {
        state.open += 1
        return (true, state.waiters.removeFirst().continuation)
      }
      if replace {
        state.open += 1
        return (true, nil)
      }
      return (false, nil)
    }
    if openFor {
      Task { await self.openConnection(for: waiter) }
    }
  }
}
