import Synchronization

/// The measured requests left, shared by every worker: a worker claims one before each
/// measured request and stops when none is left, or when the run is interrupted.
final class RequestBudget: Sendable {
  private let limit: Int
  private let claimed = Atomic<Int>(0)
  private let interrupted = Atomic<Bool>(false)

  /// A budget of `limit` requests.
  init(limit: Int) {
    self.limit = limit
  }

  /// Takes one request from the budget; false once all are taken or after ``interrupt()``.
  func claim() -> Bool {
    !isInterrupted && claimed.wrappingAdd(1, ordering: .relaxed).newValue <= limit
  }

  /// Ends the run early: no request starts after this.
  func interrupt() {
    interrupted.store(true, ordering: .relaxed)
  }

  /// Whether ``interrupt()`` was called.
  var isInterrupted: Bool { interrupted.load(ordering: .relaxed) }

  /// Whether every request was taken.
  var isExhausted: Bool { claimed.load(ordering: .relaxed) >= limit }
}
