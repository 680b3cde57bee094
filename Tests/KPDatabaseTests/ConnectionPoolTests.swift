import KPDatabase
import KPTesting
import Synchronization
import Testing

@Suite("ConnectionPool against a real PostgreSQL")
struct ConnectionPoolTests {
  private func configuration(_ url: String, size: Int) -> ConnectionPoolConfiguration {
    var configuration = ConnectionPoolConfiguration(url: url)
    configuration.maximumConnections = size
    configuration.name = "test"
    // Generous: the whole test suite shares two cores with servers it starts.
    configuration.acquireTimeout = .seconds(60)
    return configuration
  }

  @Test("never opens more connections than its bound and lends each to one task at a time")
  func bounded() async throws {
    try await PostgresFixture.withDatabase { url in
      let pool = ConnectionPool(configuration: configuration(url, size: 2))
      defer { pool.close() }
      let inUse = ConcurrencyGauge()

      try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<6 {
          group.addTask {
            try await pool.withConnection { connection in
              inUse.enter()
              try connection.query("SELECT pg_sleep(0.1)")
              inUse.leave()
            }
          }
        }
        try await group.waitForAll()
      }

      #expect(inUse.peak == 2)
      #expect(pool.statistics.open == 2)
      #expect(pool.statistics.opened == 2)
    }
  }

  @Test("a task waiting longer than the acquire timeout fails with poolTimeout")
  func acquireTimeout() async throws {
    try await PostgresFixture.withDatabase { url in
      var settings = configuration(url, size: 1)
      settings.acquireTimeout = .milliseconds(200)
      let pool = ConnectionPool(configuration: settings)
      defer { pool.close() }

      async let holder: Void = pool.withConnection { connection in
        try connection.query("SELECT pg_sleep(1)")
      }
      try await Task.sleep(for: .milliseconds(100))
      await #expect(throws: DatabaseError(code: .poolTimeout, message: "")) {
        try await pool.withConnection { connection in try connection.query("SELECT 1") }
      }
      try await holder
    }
  }

  @Test("a connection whose backend died is replaced, by the health check or after its error")
  func reconnects() async throws {
    try await PostgresFixture.withDatabase { url in
      var settings = configuration(url, size: 1)
      settings.healthCheckAfterIdle = .zero
      let pool = ConnectionPool(configuration: settings)
      defer { pool.close() }
      let admin = try PostgresConnection.connect(url: url)
      defer { admin.close() }

      let first = try await pool.withConnection { $0.backendProcessID }
      try admin.query("SELECT pg_terminate_backend($1::int)", ["\(first ?? 0)"])
      try await Task.sleep(for: .milliseconds(100))

      let second = try await pool.withConnection { connection in
        try connection.query("SELECT pg_backend_pid()")[0][0].flatMap { Int32($0) }
      }
      #expect(second != nil && second != first)
      #expect(pool.statistics.retired >= 1)
    }
  }

  @Test("a connection left inside a transaction is closed, not lent again")
  func openTransactionIsDiscarded() async throws {
    try await PostgresFixture.withDatabase { url in
      let pool = ConnectionPool(configuration: configuration(url, size: 1))
      defer { pool.close() }

      let first = try await pool.withConnection { connection in
        try connection.execute("BEGIN")
        return connection.backendProcessID
      }
      let second = try await pool.withConnection { connection in
        try connection.query("CREATE TABLE fresh (id int)")
        return connection.backendProcessID
      }
      #expect(first != second)
      #expect(pool.statistics.retired == 1)
    }
  }

  @Test("a transaction rolls back when its body throws")
  func rollback() async throws {
    struct Abort: Error {}
    try await PostgresFixture.withDatabase { url in
      let pool = ConnectionPool(configuration: configuration(url, size: 1))
      defer { pool.close() }
      try await pool.withConnection { try $0.query("CREATE TABLE notes (id int)") }

      await #expect(throws: Abort.self) {
        try await pool.withTransaction { transaction in
          try transaction.query("INSERT INTO notes VALUES (1)")
          throw Abort()
        }
      }
      let count = try await pool.withConnection { try $0.query("SELECT count(*) FROM notes") }
      #expect(count[0][0] == "0")
    }
  }

  @Test("a closed pool refuses work")
  func closed() async throws {
    try await PostgresFixture.withDatabase { url in
      let pool = ConnectionPool(configuration: configuration(url, size: 1))
      pool.close()
      await #expect(throws: DatabaseError(code: .poolClosed, message: "")) {
        try await pool.withConnection { try $0.query("SELECT 1") }
      }
    }
  }
}

/// Counts how many bodies run at once, and the most that ever did.
private final class ConcurrencyGauge: Sendable {
  private let counts = Mutex((now: 0, peak: 0))

  var peak: Int { counts.withLock { $0.peak } }

  func enter() {
    counts.withLock {
      $0.now += 1
      $0.peak = max($0.peak, $0.now)
    }
  }

  func leave() {
    counts.withLock { $0.now -= 1 }
  }
}
