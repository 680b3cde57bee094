import Foundation

/// A connection the pool owns, with its worker thread and what the pool knows about its use.
///
/// The mutable fields are touched only by the task that holds the connection on lease, or by
/// the pool while the connection is idle under the pool's lock, never both at once.
final class PooledConnection: @unchecked Sendable {
  let connection: PostgresConnection
  let worker: ConnectionWorker
  let openedAt: ContinuousClock.Instant
  var lastReleasedAt: ContinuousClock.Instant
  /// The tenants whose schemas this connection's backend has touched; each one grows the
  /// backend's catalog cache, so the pool retires a connection that has seen too many.
  var tenantsTouched: Set<String> = []

  init(connection: PostgresConnection, worker: ConnectionWorker) {
    self.connection = connection
    self.worker = worker
    openedAt = .now
    lastReleasedAt = .now
  }

  /// Connects on a new worker thread.
  static func open(
    url: String, timeout: Duration, applicationName: String, threadName: String
  ) async throws -> PooledConnection {
    let worker = ConnectionWorker(name: threadName)
    do {
      let connection = try await worker.run {
        try PostgresConnection.connect(
          url: url, timeout: timeout, applicationName: applicationName)
      }
      return PooledConnection(connection: connection, worker: worker)
    } catch {
      worker.stop()
      throw error
    }
  }

  /// Closes the connection on its own thread, then ends the thread.
  func retire() {
    let connection = connection
    let worker = worker
    Task {
      _ = try? await worker.run { connection.close() }
      worker.stop()
    }
  }
}
