import Synchronization

/// A call's flow-control credit for sending: a sender waits while it is used up.
///
/// The peer grants credit as its application consumes messages, so a slow reader holds the
/// sender back instead of letting queued bytes grow without bound.
final class SendWindow: Sendable {
  private struct State {
    var available: Int
    var error: RPCError?
    var waiters: [CheckedContinuation<Void, Never>] = []
  }

  private let state: Mutex<State>

  init(initial: Int) {
    state = Mutex(State(available: initial))
  }

  /// Takes credit for `bytes`, waiting until some is available. A message may overshoot the
  /// window: a sender may send while any credit remains.
  func acquire(_ bytes: Int) async throws(RPCError) {
    while true {
      let outcome = state.withLock { state -> Result<Bool, RPCError> in
        if let error = state.error { return .failure(error) }
        if state.available > 0 {
          state.available -= bytes
          return .success(true)
        }
        return .success(false)
      }
      switch outcome {
      case .failure(let error): throw error
      case .success(true): return
      case .success(false): break
      }

      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let resumeNow = state.withLock { state -> Bool in
          if state.available > 0 || state.error != nil { return true }
          state.waiters.append(continuation)
          return false
        }
        if resumeNow { continuation.resume() }
      }
    }
  }

  /// Adds credit and wakes waiting senders.
  func grant(_ bytes: Int) {
    let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
      state.available += bytes
      defer { state.waiters.removeAll() }
      return state.waiters
    }
    for waiter in waiters { waiter.resume() }
  }

  /// Ends the window: current and later senders get `error`.
  func fail(_ error: RPCError) {
    let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
      if state.error == nil { state.error = error }
      defer { state.waiters.removeAll() }
      return state.waiters
    }
    for waiter in waiters { waiter.resume() }
  }
}
