import Synchronization

/// Wakes idle workers early when a batch is accepted, so work starts at once rather than at
/// the next poll.
final class WakeSignal: Sendable {
  private let generation = Mutex<UInt64>(0)

  /// Makes a signal.
  init() {}

  /// Wakes every worker waiting now.
  func wake() {
    generation.withLock { $0 &+= 1 }
  }

  /// Waits until ``wake()`` is called or `timeout` passes, whichever is first; returns early
  /// when the task is cancelled.
  func wait(upTo timeout: Duration) async {
    let start = generation.withLock { $0 }
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline && !Task.isCancelled {
      if generation.withLock({ $0 }) != start { return }
      try? await Task.sleep(for: .milliseconds(20))
    }
  }
}
