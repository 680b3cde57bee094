import Synchronization

/// The server's end of one call: received messages in, responses and the status out.
///
/// Created on the connection's loop; the handler task reads and sends from any thread.
final class ServerCall: CallEndpoint, @unchecked Sendable {
  let id: UInt64
  let connection: Connection
  let inbound: InboundMessages
  let window: SendWindow
  private let ended = Atomic<Bool>(false)

  // Loop-only state.
  var task: Task<Void, Never>?
  var deadlineTimer: ScheduledTimer?

  init(id: UInt64, connection: Connection) {
    self.id = id
    self.connection = connection
    let callWindow = connection.limits.initialCallWindow
    inbound = InboundMessages(reportThreshold: callWindow / 2) { [connection] bytes in
      connection.loop.executeSoon { connection.consumed(id: id, bytes: bytes) }
    }
    window = SendWindow(initial: connection.machine.peerInitialCallWindow)
  }

  /// Whether the call is over (status sent, cancelled, timed out or disconnected).
  var isEnded: Bool { ended.load(ordering: .acquiring) }

  // MARK: From the connection (loop)

  func receive(_ data: [UInt8]) { inbound.deliver(data) }

  func receiveEnd() { inbound.finish(nil) }

  func grant(_ bytes: Int) { window.grant(bytes) }

  func terminate(_ error: RPCError?, trailers: Metadata) {
    guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
    let reason = error ?? .cancelled()
    deadlineTimer?.cancel()
    inbound.finish(reason)
    window.fail(reason)
    task?.cancel()
  }

  /// The deadline passed: the caller gets DEADLINE_EXCEEDED and the handler is cancelled.
  func deadlineExpired() {
    guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
    let error = RPCError.deadlineExceeded()
    connection.sendStatus(id: id, error: error)
    inbound.finish(error)
    window.fail(error)
    task?.cancel()
  }

  // MARK: From the handler

  /// Sends one response message, waiting for flow-control credit.
  func send(_ data: [UInt8]) async throws(RPCError) {
    let limit = connection.peerMessageLimit
    guard data.count <= limit else { throw .messageTooLarge(data.count, limit: limit) }
    try await window.acquire(data.count)
    guard !isEnded else { throw .cancelled("the call already ended") }
    let connection = connection
    let id = id
    connection.loop.executeSoon { connection.sendMessage(id: id, data: data) }
  }

  /// Ends the call with a status (nil means OK), the error's trailers with it.
  func finish(_ error: RPCError?) {
    let connection = connection
    connection.loop.executeSoon { [self] in
      guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
      deadlineTimer?.cancel()
      window.fail(.cancelled("the call already ended"))
      connection.sendStatus(id: id, error: error)
    }
  }
}
