import Synchronization

/// The client's end of one call.
///
/// The connection (on its loop) delivers messages and the final status; the calling task reads
/// them and sends its own messages from any thread.
final class ClientCall: ClientEndpoint, @unchecked Sendable {
  let inbound: InboundMessages
  let window: SendWindow
  let loop: EventLoop
  private let messageLimitSource: Connection

  private var messageLimit: Int { messageLimitSource.peerMessageLimit }
  private let outcome = Mutex<(error: RPCError?, trailers: Metadata)?>(nil)

  // Loop-only state.
  var connection: Connection?
  var id: UInt64 = 0
  var deadlineTimer: ScheduledTimer?

  init(connection: Connection) {
    self.connection = connection
    self.loop = connection.loop
    self.messageLimitSource = connection
    let threshold = connection.limits.initialCallWindow / 2
    let box = CallBox()
    inbound = InboundMessages(reportThreshold: threshold) { bytes in
      box.report(bytes)
    }
    // No credit until the connection knows the server's announced window and grants it, so a
    // streaming sender never overruns a window smaller than the default. (The first message of
    // a unary or server-streaming call goes out with the call's start, which any window
    // admits.)
    window = SendWindow(initial: 0)
    box.call = self
  }

  /// The call's final status, once it ended: nil error for OK.
  var result: (error: RPCError?, trailers: Metadata)? { outcome.withLock { $0 } }

  // MARK: From the connection (loop)

  func receive(_ data: [UInt8]) { inbound.deliver(data) }

  func receiveEnd() {}

  func grant(_ bytes: Int) { window.grant(bytes) }

  func terminate(_ error: RPCError?, trailers: Metadata) {
    outcome.withLock { if $0 == nil { $0 = (error, trailers) } }
    deadlineTimer?.cancel()
    inbound.finish(error)
    window.fail(error ?? .cancelled("the call already ended"))
    connection = nil
  }

  // MARK: From the calling task (any thread)

  /// Sends one message, waiting for flow-control credit.
  func send(_ data: [UInt8]) async throws(RPCError) {
    try checkSize(data.count)
    try await window.acquire(data.count)
    loop.execute { [self] in
      if let connection { connection.sendMessage(id: id, data: data) }
    }
  }

  /// Says no more messages follow.
  func halfClose() {
    loop.execute { [self] in
      if let connection { connection.sendHalfClose(id: id) }
    }
  }

  /// Abandons the call with `error`, telling the server.
  func cancel(_ error: RPCError) {
    loop.execute { [self] in
      if let connection { connection.cancelCall(id: id, error: error) }
    }
  }

  /// Refuses a message larger than the server accepts, before anything is sent.
  func checkSize(_ count: Int) throws(RPCError) {
    let limit = messageLimit
    guard count <= limit else { throw .messageTooLarge(count, limit: limit) }
  }

  fileprivate func reportConsumed(_ bytes: Int) {
    loop.execute { [self] in
      if let connection { connection.consumed(id: id, bytes: bytes) }
    }
  }
}

/// Breaks the cycle between a call and its inbound queue's report closure.
private final class CallBox: @unchecked Sendable {
  weak var call: ClientCall?

  func report(_ bytes: Int) { call?.reportConsumed(bytes) }
}
