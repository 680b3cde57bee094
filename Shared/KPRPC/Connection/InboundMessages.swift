import Synchronization

/// The messages a call has received and not yet consumed, read with `await`.
///
/// The connection's loop delivers into it; one task reads from it. Consumed bytes are reported
/// back in batches so the connection can grant the peer more flow-control credit.
final class InboundMessages: Sendable {
  private struct State {
    var messages: [[UInt8]] = []
    var head = 0
    var ended = false
    var error: RPCError?
    var waiter: CheckedContinuation<Void, Never>?
    var unreportedBytes = 0
  }

  private let state = Mutex(State())
  private let reportThreshold: Int
  private let report: @Sendable (Int) -> Void

  /// - Parameters:
  ///   - reportThreshold: consumed bytes are reported once at least this many accumulate.
  ///   - report: called with consumed byte counts, from the reading task.
  init(reportThreshold: Int, report: @escaping @Sendable (Int) -> Void) {
    self.reportThreshold = max(1, reportThreshold)
    self.report = report
  }

  /// Adds a received message.
  func deliver(_ data: [UInt8]) {
    let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
      guard !state.ended else { return nil }
      state.messages.append(data)
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume()
  }

  /// No more messages will arrive; `error` is nil for a normal end.
  func finish(_ error: RPCError?) {
    let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
      guard !state.ended else { return nil }
      state.ended = true
      state.error = error
      if error != nil {
        state.messages.removeAll()
        state.head = 0
      }
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume()
  }

  /// The next message, or nil after the last one; throws when the call ended in error.
  func next() async throws(RPCError) -> [UInt8]? {
    while true {
      enum Step {
        case message([UInt8], report: Int)
        case end(RPCError?)
        case wait
      }
      let step = state.withLock { state -> Step in
        if state.head < state.messages.count {
          let message = state.messages[state.head]
          state.head += 1
          if state.head == state.messages.count {
            state.messages.removeAll(keepingCapacity: true)
            state.head = 0
          }
          state.unreportedBytes += message.count
          var toReport = 0
          if state.unreportedBytes >= reportThreshold {
            toReport = state.unreportedBytes
            state.unreportedBytes = 0
          }
          return .message(message, report: toReport)
        }
        if state.ended { return .end(state.error) }
        return .wait
      }

      switch step {
      case .message(let message, let toReport):
        if toReport > 0 { report(toReport) }
        return message
      case .end(let error):
        if let error { throw error }
        return nil
      case .wait:
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
          let resumeNow = state.withLock { state -> Bool in
            if state.head < state.messages.count || state.ended { return true }
            state.waiter = continuation
            return false
          }
          if resumeNow { continuation.resume() }
        }
      }
    }
  }
}
