import Synchronization

/// The server's end of one unary call: the request is collected on the connection's loop, the
/// handler runs once it is complete, and the response goes out inside the status's frame.
///
/// A unary call needs none of a stream's machinery: no queue of received messages for a
/// handler to wait on, and no send window, since one message may always be sent on a new call.
final class ServerUnaryCall: CallEndpoint, EventLoopFlushable, @unchecked Sendable {
  let id: UInt64
  let connection: Connection
  private let ended = Atomic<Bool>(false)

  // Loop-only state.
  private var request: [UInt8]?
  private var extraRequests = false
  private var started: (@Sendable (ServerUnaryCall, [UInt8]?, Bool) -> Task<Void, Never>)?
  private var pendingDeadline: MonotonicInstant?

  /// The handler's response, written by the handler's task before it calls `finish`.
  var response: [UInt8]?
  var task: Task<Void, Never>?
  var deadlineTimer: ScheduledTimer?

  /// - Parameter start: starts the handler's task once the client half-closes, with the call,
  ///   the request (nil when none came) and whether more than one came.
  init(
    id: UInt64, connection: Connection,
    start: @escaping @Sendable (ServerUnaryCall, [UInt8]?, Bool) -> Task<Void, Never>
  ) {
    self.id = id
    self.connection = connection
    self.started = start
  }

  /// Whether the call is over (status sent, cancelled, timed out or disconnected).
  var isEnded: Bool { ended.load(ordering: .acquiring) }

  /// Arms the call's deadline at the end of the loop's turn, if the call is still open then:
  /// a handler that answers within the turn it was started in never needs the timer, and
  /// arming it does not delay the response. A deadline less than a millisecond away is armed
  /// at once, so a call that arrives with its time all but spent ends with DEADLINE_EXCEEDED
  /// before its handler runs, as the loop runs due timers before queued work. Call on the loop.
  func armDeadline(at deadline: MonotonicInstant) {
    if deadline <= MonotonicInstant.now().advanced(by: .milliseconds(1)) {
      deadlineTimer = connection.loop.scheduleTimer(at: deadline) { [self] in deadlineExpired() }
      return
    }
    pendingDeadline = deadline
    connection.loop.scheduleFlush(self)
  }

  func flushScheduledOutput() {
    guard let deadline = pendingDeadline else { return }
    pendingDeadline = nil
    guard !isEnded else { return }
    deadlineTimer = connection.loop.scheduleTimer(at: deadline) { [self] in deadlineExpired() }
  }

  // MARK: From the connection (loop)

  func receive(_ data: [UInt8]) {
    if request == nil { request = data } else { extraRequests = true }
    // The request's bytes need no credit back: the call ends before a window could matter.
  }

  func receiveEnd() {
    guard let start = started, !isEnded else { return }
    started = nil
    task = start(self, request, extraRequests)
    request = nil
  }

  func grant(_ bytes: Int) {}

  func terminate(_ error: RPCError?, trailers: Metadata) {
    guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
    started = nil
    deadlineTimer?.cancel()
    task?.cancel()
  }

  /// The deadline passed: the caller gets DEADLINE_EXCEEDED and the handler is cancelled.
  func deadlineExpired() {
    guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
    started = nil
    connection.sendStatus(id: id, error: .deadlineExceeded())
    task?.cancel()
  }

  // MARK: From the handler

  /// Ends the call with a status, nil for OK, sending `response` first when OK.
  func finish(_ error: RPCError?) {
    let connection = connection
    if connection.loop.inEventLoop {
      finishOnLoop(error)
    } else {
      connection.loop.execute { [self] in finishOnLoop(error) }
    }
  }

  private func finishOnLoop(_ error: RPCError?) {
    guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
    deadlineTimer?.cancel()
    var error = error
    var lastMessage: [UInt8]?
    if let response, error == nil {
      let limit = connection.peerMessageLimit
      if response.count > limit {
        error = .messageTooLarge(response.count, limit: limit)
      } else {
        // The response goes in the status's frame: the envelope overhead the limit allows for
        // covers a status that carries a message.
        lastMessage = response
      }
    }
    connection.sendStatus(id: id, error: error, lastMessage: lastMessage, flushIfIdle: true)
  }
}
