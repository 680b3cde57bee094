/// The wait before a job's next attempt: exponential from an initial wait, capped, with a
/// little jitter so jobs that failed together do not all come back at once.
struct RetryBackoff: Sendable, Equatable {
  /// The wait after the first failed attempt.
  var initial: Duration
  /// The longest wait.
  var maximum: Duration

  /// The wait after `attempt` failed attempts (1 for the first), before jitter: `initial`
  /// doubled `attempt - 1` times, at most `maximum`.
  func ceiling(afterAttempt attempt: Int) -> Duration {
    var wait = initial
    for _ in 1..<max(1, min(attempt, 64)) {
      wait *= 2
      if wait >= maximum { return maximum }
    }
    return min(wait, maximum)
  }

  /// The wait after `attempt` failed attempts: the ceiling less up to a fifth, at random.
  func delay(afterAttempt attempt: Int) -> Duration {
    ceiling(afterAttempt: attempt) * Double.random(in: 0.8...1.0)
  }
}
