import Synchronization

/// The messages a call has received and not yet consumed, read with `await`.
///
/// The connection's loop delivers into it; one task reads from it. Consumed bytes are reported
/// back in batches so the connection can grant the peer more flow-control credit.
final class InboundMessages: Sendable {
  private struct State {
    /// The oldest unread message when there is only one: most calls carry one message each
    /// way, and keeping it here spares the array an allocation.
    var first: [UInt8]?
    var messages: [[UInt8]] = []
    var head = 0
    var ended = false
    var error: RPCError?
    var waiter: UnsafeContinuation<Void, Never>?
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
    let waiter = state.withLock { state -> UnsafeContinuation<Void, Never>? in
      guard !state.ended else { return nil }
      if state.first == nil && state.head == state.messages.count {
        state.first = data
      } else {
        state.messages.append(data)
      }
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume()
  }

  /// No more messages will arrive; `error` is nil for a normal end. Messages already received
  /// are still read first, so a stream that fails after sending some hands them all over before
  /// its error, as the peer sent them.
  func finish(_ error: RPCError?) {
    let waiter = state.withLock { state -> UnsafeContinuation<Void, Never>? in
      guard !state.ended else { return nil }
      state.ended = true
      state.error = error
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume()
  }

  /// The next message, or nil after the last one; throws, once every received message has
  /// been read, when the call ended in error.
  func next() async throws(RPCError) -> [UInt8]? {
    while true {
      enum Step {
        case message([UInt8], report: Int)
        case end(RPCError?)
        case wait
      }
      let step = state.withLock { state -> Step in
        if let message = state.first {
          state.first = nil
          return .message(
            message, report: Self.count(message, in: &state, threshold: reportThreshold))
        }
        if state.head < state.messages.count {
          let message = state.messages[state.head]
          state.head += 1
          if state.head == state.messages.count {
            state.messages.removeAll(keepingCapacity: true)
            state.head = 0
          }
          return .message(
            message, report: Self.count(message, in: &state, threshold: reportThreshold))
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
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
          let resumeNow = state.withLock { state -> Bool in
            if state.first != nil || state.head < state.messages.count || state.ended {
              return true
            }
            state.waiter = continuation
            return false
          }
          if resumeNow { continuation.resume() }
        }
      }
    }
  }

  /// Counts a consumed message; returns the bytes to report now (0 until the threshold).
  private static func count(_ message: [UInt8], in state: inout State, threshold: Int) -> Int {
    state.unreportedBytes += message.count
    guard state.unreportedBytes >= threshold else { return 0 }
    defer { state.unreportedBytes = 0 }
    return state.unreportedBytes
  }
}
