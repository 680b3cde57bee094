import Synchronization

/// The client's end of one unary call: one response and the status, awaited once.
///
/// A unary call needs none of a stream's machinery: no queue of received messages, no
/// consumed-bytes reports and no send window (its one request goes out with the call's start).
final class ClientUnaryCall: ClientEndpoint, @unchecked Sendable {
  private struct State {
    var response: [UInt8]?
    var extraResponses = false
    var outcome: RPCError??
    var waiter: UnsafeContinuation<Void, Never>?
  }

  let loop: EventLoop
  private let state = Mutex(State())

  // Loop-only state.
  var connection: Connection?
  var id: UInt64 = 0
  var deadlineTimer: ScheduledTimer?

  init(connection: Connection) {
    self.connection = connection
    self.loop = connection.loop
  }

  // MARK: From the connection (loop)

  func receive(_ data: [UInt8]) {
    state.withLock { state in
      if state.response == nil { state.response = data } else { state.extraResponses = true }
    }
  }

  func receiveEnd() {}

  func grant(_ bytes: Int) {}

  func terminate(_ error: RPCError?, trailers: Metadata) {
    deadlineTimer?.cancel()
    connection = nil
    let waiter = state.withLock { state -> UnsafeContinuation<Void, Never>? in
      guard state.outcome == nil else { return nil }
      state.outcome = .some(error)
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume()
  }

  // MARK: From the calling task

  /// The response, once the call ended; throws the call's error, or when the server sent no
  /// response or more than one.
  func response() async throws(RPCError) -> [UInt8] {
    await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
      let ended = state.withLock { state -> Bool in
        if state.outcome != nil { return true }
        state.waiter = continuation
        return false
      }
      if ended { continuation.resume() }
    }
    let (response, extra, outcome) = state.withLock { ($0.response, $0.extraResponses, $0.outcome) }
    if case .some(.some(let error)) = outcome { throw error }
    guard let response else {
      throw RPCError(.internalError, "the server ended a unary call without a response")
    }
    guard !extra else {
      throw RPCError(.internalError, "the server sent more than one response to a unary call")
    }
    return response
  }

  /// Abandons the call with `error`, telling the server.
  func cancel(_ error: RPCError) {
    loop.execute { [self] in
      if let connection { connection.cancelCall(id: id, error: error) }
    }
  }
}

/// A client's end of a call as the channel starts it.
protocol ClientEndpoint: CallEndpoint, Sendable {
  /// The call's id on its connection, set once the call started.
  var id: UInt64 { get set }
  /// Cancels the call with DEADLINE_EXCEEDED when it fires.
  var deadlineTimer: ScheduledTimer? { get set }
}
