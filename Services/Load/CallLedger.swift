/// Every call sent to the gateway, by method and status, including the sampling before the
/// run and the warm-up: what the gateway's own call counters should have grown by.
struct CallLedger: Sendable, Equatable {
  /// Counts by method, then status name.
  private(set) var counts: [String: [String: Int]] = [:]

  /// An empty ledger.
  init() {}

  /// Counts one call.
  mutating func record(_ outcome: CallOutcome) {
    counts[outcome.call, default: [:]][outcome.code, default: 0] += 1
  }

  /// Adds another ledger.
  mutating func merge(_ other: CallLedger) {
    for (call, codes) in other.counts {
      for (code, count) in codes { counts[call, default: [:]][code, default: 0] += count }
    }
  }

  /// Every call counted.
  var total: Int { counts.values.reduce(0) { $0 + $1.values.reduce(0, +) } }
}
