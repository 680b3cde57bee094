import Foundation
import Synchronization

/// Latency samples and how the benches take them: every query of a list, `passes` times, by
/// `concurrency` workers that each take the next query, in several rounds; the median round's
/// percentiles are reported.
enum Latency {
  /// The `fraction` percentile of samples (nearest rank).
  static func percentile(_ samples: [Double], _ fraction: Double) -> Double {
    guard !samples.isEmpty else { return 0 }
    let sorted = samples.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction + 0.5))]
  }

  /// Milliseconds since `start`.
  static func milliseconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = start.duration(to: .now)
    return Double(elapsed.components.seconds) * 1000
      + Double(elapsed.components.attoseconds) / 1e15
  }

  /// A measurement: the median round's p50 and p99, in milliseconds, and queries per second.
  struct Figures: Sendable {
    var p50: Double
    var p99: Double
    var perSecond: Double
  }

  /// Runs rounds of an async operation with `concurrency` tasks.
  static func measure(
    count: Int, passes: Int, concurrency: Int, rounds: Int,
    _ operation: @escaping @Sendable (Int) async throws -> Void
  ) async throws -> Figures {
    var results: [Figures] = []
    for _ in 0..<rounds {
      let next = WorkCounter()
      let total = count * passes
      let start = ContinuousClock.now
      let samples = try await withThrowingTaskGroup(of: [Double].self) { group in
        for _ in 0..<concurrency {
          group.addTask {
            var samples: [Double] = []
            while true {
              let index = next.next()
              guard index < total else { break }
              let begun = ContinuousClock.now
              try await operation(index % count)
              samples.append(milliseconds(since: begun))
            }
            return samples
          }
        }
        return try await group.reduce(into: []) { $0 += $1 }
      }
      results.append(summary(samples, seconds: milliseconds(since: start) / 1000))
    }
    return median(results)
  }

  /// Runs rounds of a blocking operation on `concurrency` threads; worker `w` passes its number
  /// to the operation so each thread keeps its own connection.
  static func measureThreads(
    count: Int, passes: Int, concurrency: Int, rounds: Int,
    _ operation: @escaping @Sendable (_ worker: Int, _ query: Int) throws -> Void
  ) throws -> Figures {
    var results: [Figures] = []
    for _ in 0..<rounds {
      let next = WorkCounter()
      let total = count * passes
      let collected = Collected()
      let group = DispatchGroup()
      let start = ContinuousClock.now
      for worker in 0..<concurrency {
        group.enter()
        let thread = Thread {
          var samples: [Double] = []
          var failure: (any Error)?
          while failure == nil {
            let index = next.next()
            guard index < total else { break }
            let begun = ContinuousClock.now
            do {
              try operation(worker, index % count)
            } catch {
              failure = error
            }
            samples.append(milliseconds(since: begun))
          }
          collected.add(samples, failure)
          group.leave()
        }
        thread.start()
      }
      group.wait()
      let (samples, error) = collected.result
      if let error { throw error }
      results.append(summary(samples, seconds: milliseconds(since: start) / 1000))
    }
    return median(results)
  }

  private static func summary(_ samples: [Double], seconds: Double) -> Figures {
    Figures(
      p50: percentile(samples, 0.5), p99: percentile(samples, 0.99),
      perSecond: seconds > 0 ? Double(samples.count) / seconds : 0)
  }

  /// The median of each figure over the rounds.
  static func median(_ rounds: [Figures]) -> Figures {
    Figures(
      p50: percentile(rounds.map(\.p50), 0.5), p99: percentile(rounds.map(\.p99), 0.5),
      perSecond: percentile(rounds.map(\.perSecond), 0.5))
  }
}

/// Hands out increasing numbers to workers that share a list of work.
final class WorkCounter: Sendable {
  private let value = Atomic<Int>(0)

  /// The next number, starting at 0.
  func next() -> Int { value.add(1, ordering: .relaxed).oldValue }
}

/// Samples and the first failure from worker threads.
private final class Collected: Sendable {
  private let state = Mutex<(samples: [Double], error: String?)>(([], nil))

  func add(_ samples: [Double], _ failure: (any Error)?) {
    state.withLock { state in
      state.samples += samples
      if let failure { state.error = "\(failure)" }
    }
  }

  var result: ([Double], BenchError?) {
    state.withLock { ($0.samples, $0.error.map(BenchError.init)) }
  }
}
