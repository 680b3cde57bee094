import Foundation
import Synchronization

/// How the platform benches take latency samples: a bounded number of requests by a fixed
/// number of closed-loop workers (async tasks or threads), or an open-loop sender that starts
/// requests at a steady rate and times each from its scheduled start.
enum Latency {
  /// One measurement: requests done, failures, p50 and p99 in milliseconds, requests per
  /// second, and failures by code.
  struct Figures: Sendable {
    var requests = 0
    var failures = 0
    var p50 = 0.0
    var p99 = 0.0
    var perSecond = 0.0
    var failuresByCode: [String: Int] = [:]
  }

  /// The `fraction` percentile of samples (nearest rank).
  static func percentile(_ samples: [Double], _ fraction: Double) -> Double {
    guard !samples.isEmpty else { return 0 }
    let sorted = samples.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction + 0.5))]
  }

  /// Seconds since `start`.
  static func seconds(since start: ContinuousClock.Instant) -> Double {
    seconds(start.duration(to: .now))
  }

  /// A duration in seconds.
  static func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
  }

  /// The median of each figure over rounds; counts are summed.
  static func median(_ rounds: [Figures]) -> Figures {
    var result = Figures(
      requests: rounds.reduce(0) { $0 + $1.requests },
      failures: rounds.reduce(0) { $0 + $1.failures },
      p50: percentile(rounds.map(\.p50), 0.5), p99: percentile(rounds.map(\.p99), 0.5),
      perSecond: percentile(rounds.map(\.perSecond), 0.5))
    for round in rounds {
      result.failuresByCode.merge(round.failuresByCode, uniquingKeysWith: +)
    }
    return result
  }

  /// Runs `count` requests on `concurrency` async workers; each request gets its index and
  /// answers nil on success or a failure code. Only successes are timed.
  static func closedLoop(
    count: Int, concurrency: Int,
    _ operation: @escaping @Sendable (_ index: Int) async -> String?
  ) async -> Figures {
    let next = WorkCounter()
    let start = ContinuousClock.now
    let collected = await withTaskGroup(of: Samples.self) { group in
      for _ in 0..<concurrency {
        group.addTask {
          var samples = Samples()
          while true {
            let index = next.next()
            guard index < count else { break }
            let begun = ContinuousClock.now
            let failure = await operation(index)
            samples.record(seconds(since: begun), failure: failure)
          }
          return samples
        }
      }
      return await group.reduce(into: Samples()) { $0.merge($1) }
    }
    return collected.figures(seconds: seconds(since: start))
  }

  /// Runs `count` requests on `concurrency` threads, each blocking; worker `w` passes its number
  /// so each thread keeps its own connection.
  static func threads(
    count: Int, concurrency: Int,
    _ operation: @escaping @Sendable (_ worker: Int, _ index: Int) -> String?
  ) -> Figures {
    let next = WorkCounter()
    let collected = Mutex(Samples())
    let group = DispatchGroup()
    let start = ContinuousClock.now
    for worker in 0..<concurrency {
      group.enter()
      let thread = Thread {
        var samples = Samples()
        while true {
          let index = next.next()
          guard index < count else { break }
          let begun = ContinuousClock.now
          let failure = operation(worker, index)
          samples.record(seconds(since: begun), failure: failure)
        }
        collected.withLock { $0.merge(samples) }
        group.leave()
      }
      thread.stackSize = 1 << 20
      thread.start()
    }
    group.wait()
    return collected.withLock { $0 }.figures(seconds: seconds(since: start))
  }

  /// Starts requests at `rate` per second for `duration` (open loop), each timed from the
  /// moment it was due, so a stalled sender still counts the wait. At most `maximumInFlight`
  /// run at once; a request due while that many are out is counted as `CLIENT_SATURATED`.
  static func paced(
    rate: Double, duration: Duration, maximumInFlight: Int,
    _ operation: @escaping @Sendable (_ index: Int) async -> String?
  ) async -> Figures {
    let total = max(1, Int(rate * seconds(duration)))
    let interval = Duration.seconds(1 / rate)
    let inFlight = InFlight()
    let start = ContinuousClock.now
    let collected = await withTaskGroup(of: Samples.self) { group in
      var local = Samples()
      for index in 0..<total {
        let due = start + interval * index
        try? await Task.sleep(until: due, clock: .continuous)
        guard inFlight.enter(limit: maximumInFlight) else {
          local.record(0, failure: "CLIENT_SATURATED")
          continue
        }
        group.addTask {
          var samples = Samples()
          let failure = await operation(index)
          samples.record(seconds(due.duration(to: .now)), failure: failure)
          inFlight.leave()
          return samples
        }
      }
      return await group.reduce(into: local) { $0.merge($1) }
    }
    return collected.figures(seconds: seconds(since: start))
  }
}

/// Latency samples of successful requests and failure counts, merged from workers.
struct Samples: Sendable {
  var seconds: [Double] = []
  var failures: [String: Int] = [:]

  mutating func record(_ elapsed: Double, failure: String?) {
    if let failure {
      failures[failure, default: 0] += 1
    } else {
      seconds.append(elapsed)
    }
  }

  mutating func merge(_ other: Samples) {
    seconds += other.seconds
    failures.merge(other.failures, uniquingKeysWith: +)
  }

  func figures(seconds elapsed: Double) -> Latency.Figures {
    let failed = failures.values.reduce(0, +)
    return Latency.Figures(
      requests: seconds.count + failed, failures: failed,
      p50: Latency.percentile(seconds, 0.5) * 1000, p99: Latency.percentile(seconds, 0.99) * 1000,
      perSecond: elapsed > 0 ? Double(seconds.count) / elapsed : 0, failuresByCode: failures)
  }
}

/// Hands out increasing numbers to workers that share a list of work.
final class WorkCounter: Sendable {
  private let value = Atomic<Int>(0)

  /// The next number, starting at 0.
  func next() -> Int { value.add(1, ordering: .relaxed).oldValue }
}

/// Counts requests out at once, up to a limit.
final class InFlight: Sendable {
  private let value = Atomic<Int>(0)

  /// Counts one more request; false, counting nothing, when `limit` are already out.
  func enter(limit: Int) -> Bool {
    guard value.add(1, ordering: .relaxed).newValue <= limit else {
      value.subtract(1, ordering: .relaxed)
      return false
    }
    return true
  }

  /// Counts one request fewer.
  func leave() {
    value.subtract(1, ordering: .relaxed)
  }
}
