import Foundation

/// A thread of its own that runs one connection's blocking libpq calls, one job at a time.
///
/// libpq blocks the calling thread until the server answers. Running those calls on Swift's
/// cooperative threads (two on a two-core machine) would let a few slow statements, or two
/// statements waiting on each other's row locks, stall every task in the process. Each pooled
/// connection therefore owns a worker, and tasks await the worker's answer.
final class ConnectionWorker: @unchecked Sendable {
  // `jobs` and `stopping` are only touched with `condition` locked.
  private let condition = NSCondition()
  private var jobs: [@Sendable () -> Void] = []
  private var stopping = false

  /// Starts the worker's thread.
  ///
  /// - Parameter name: The thread's name, shown by debuggers.
  init(name: String) {
    let thread = Thread { [self] in self.loop() }
    thread.name = name
    thread.stackSize = 1 << 20
    thread.start()
  }

  /// Runs `body` on the worker's thread and returns its result to the awaiting task.
  ///
  /// - Parameter body: The blocking work.
  /// - Returns: What `body` returns.
  func run<Result: Sendable>(
    _ body: @escaping @Sendable () throws -> Result
  ) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
      submit {
        continuation.resume(with: Swift.Result { try body() })
      }
    }
  }

  /// Lets the thread finish its queued jobs and end.
  func stop() {
    condition.withLock {
      stopping = true
      condition.signal()
    }
  }

  private func submit(_ job: @escaping @Sendable () -> Void) {
    condition.withLock {
      jobs.append(job)
      condition.signal()
    }
  }

  private func loop() {
    while true {
      condition.lock()
      while jobs.isEmpty && !stopping { condition.wait() }
      if jobs.isEmpty {
        condition.unlock()
        return
      }
      let job = jobs.removeFirst()
      condition.unlock()
      job()
    }
  }
}
