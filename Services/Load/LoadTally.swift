/// What one worker, one tenant or the whole run measured: calls by operation and status, and
/// one latency histogram over all of them (successes and errors alike).
struct LoadTally: Sendable, Equatable {
  /// Counts by operation, then by status name (`OK`, `UNAVAILABLE`, …).
  private(set) var counts: [LoadOperation: [String: Int]] = [:]
  /// Every recorded call's latency.
  private(set) var latency = LatencyHistogram()
  /// Searches that succeeded with no hit.
  private(set) var emptySearches = 0

  /// An empty tally.
  init() {}

  /// Records one call.
  mutating func record(_ operation: LoadOperation, _ outcome: CallOutcome, latency: Duration) {
    counts[operation, default: [:]][outcome.code, default: 0] += 1
    self.latency.record(latency)
    if operation == .search && outcome.succeeded && outcome.documentIDs.isEmpty {
      emptySearches += 1
    }
  }

  /// Adds another tally.
  mutating func merge(_ other: LoadTally) {
    for (operation, codes) in other.counts {
      for (code, count) in codes { counts[operation, default: [:]][code, default: 0] += count }
    }
    latency.merge(other.latency)
    emptySearches += other.emptySearches
  }

  /// Every recorded call.
  var requests: Int { counts.values.reduce(0) { $0 + $1.values.reduce(0, +) } }

  /// Calls that succeeded.
  var ok: Int { counts.values.reduce(0) { $0 + ($1[CallOutcome.ok] ?? 0) } }

  /// Failed calls by status name.
  var errors: [String: Int] {
    var result: [String: Int] = [:]
    for codes in counts.values {
      for (code, count) in codes where code != CallOutcome.ok { result[code, default: 0] += count }
    }
    return result
  }

  /// The calls of one operation.
  func requests(of operation: LoadOperation) -> Int {
    counts[operation]?.values.reduce(0, +) ?? 0
  }

  /// The successful calls of one operation.
  func ok(of operation: LoadOperation) -> Int { counts[operation]?[CallOutcome.ok] ?? 0 }

  /// The failed calls of one operation by status name.
  func errors(of operation: LoadOperation) -> [String: Int] {
    (counts[operation] ?? [:]).filter { $0.key != CallOutcome.ok }
  }
}
