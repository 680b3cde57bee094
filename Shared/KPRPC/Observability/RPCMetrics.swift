import Synchronization

/// Counters and latency histograms per method and status code, in Prometheus text format.
///
/// Labels are the method path and the status name, never a tenant or a raw value from a
/// caller: methods a server does not know are counted under `unknown`.
public final class RPCMetrics: Sendable {
  /// The histogram's bucket upper bounds, in seconds.
  public static let bucketBounds: [Double] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
    10,
  ]

  private struct Histogram {
    var buckets = [UInt64](repeating: 0, count: RPCMetrics.bucketBounds.count)
    var count: UInt64 = 0
    var sum: Double = 0

    mutating func record(_ seconds: Double, bucket: Int?) {
      if let bucket { buckets[bucket] += 1 }
      count += 1
      sum += seconds
    }
  }

  /// One method's calls: counts by status code and the latency histogram, found with one
  /// lookup by method per call.
  private struct MethodStats {
    /// Counts of the codes gRPC defines (0 through 16), indexed by code.
    var knownCodes = [UInt64](repeating: 0, count: 17)
    /// Counts of any other code a handler used.
    var otherCodes: [Int32: UInt64] = [:]
    var latency = Histogram()

    mutating func record(_ code: RPCError.Code, seconds: Double, bucket: Int?) {
      if code.rawValue >= 0 && Int(code.rawValue) < knownCodes.count {
        knownCodes[Int(code.rawValue)] += 1
      } else {
        otherCodes[code.rawValue, default: 0] += 1
      }
      latency.record(seconds, bucket: bucket)
    }

    func count(_ code: RPCError.Code) -> UInt64 {
      code.rawValue >= 0 && Int(code.rawValue) < knownCodes.count
        ? knownCodes[Int(code.rawValue)] : otherCodes[code.rawValue] ?? 0
    }

    /// Every code counted at least once, with its count, by name.
    var counted: [(name: String, count: UInt64)] {
      var result: [(name: String, count: UInt64)] = []
      for (code, count) in knownCodes.enumerated() where count > 0 {
        result.append((RPCError.Code(rawValue: Int32(code)).name, count))
      }
      for (code, count) in otherCodes {
        result.append((RPCError.Code(rawValue: code).name, count))
      }
      return result.sorted { $0.name < $1.name }
    }
  }

  /// Every method's statistics, in the order the methods were first seen.
  private struct State {
    var slotByMethod: [String: Int] = [:]
    var names: [String] = []
    var stats: [MethodStats] = []

    mutating func slot(for method: String) -> Int {
      if let slot = slotByMethod[method] { return slot }
      slotByMethod[method] = names.count
      names.append(method)
      stats.append(MethodStats())
      return names.count - 1
    }
  }

  private let state = Mutex(State())

  /// An empty registry.
  public init() {}

  /// Records one finished call.
  public func record(method: String, code: RPCError.Code, seconds: Double, known: Bool = true) {
    record(slot: slot(for: known ? method : "unknown"), code: code, seconds: seconds)
  }

  /// Records one finished call of the method in `slot`.
  private func record(slot: Int, code: RPCError.Code, seconds: Double) {
    let bucket = Self.bucketBounds.firstIndex(where: { seconds <= $0 })
    state.withLock { state in
      // Updated in place: a copy out and back would copy the arrays on every call.
      state.stats[slot].record(code, seconds: seconds, bucket: bucket)
    }
  }

  /// How many calls of a method ended with a code.
  public func count(method: String, code: RPCError.Code) -> UInt64 {
    state.withLock { state in
      state.slotByMethod[method].map { state.stats[$0].count(code) } ?? 0
    }
  }

  /// A method's place in the registry, for `record(slot:outcome:elapsed:)`: a server takes one
  /// for each method it serves, so recording a call needs no lookup by name.
  func slot(for method: String) -> Int {
    state.withLock { $0.slot(for: method) }
  }

  /// The metrics in Prometheus text exposition format.
  public func prometheusText() -> String {
    let methods = state.withLock { state in
      zip(state.names, state.stats).filter { $0.1.latency.count > 0 }.sorted { $0.0 < $1.0 }
    }
    var lines: [String] = []

    lines.append("# HELP kp_rpc_server_calls_total Calls handled, by method and status code.")
    lines.append("# TYPE kp_rpc_server_calls_total counter")
    for (method, stats) in methods {
      for (code, count) in stats.counted {
        lines.append(
          "kp_rpc_server_calls_total{method=\"\(method)\",code=\"\(code)\"} \(count)")
      }
    }

    lines.append("# HELP kp_rpc_server_call_seconds Time to handle a call, by method.")
    lines.append("# TYPE kp_rpc_server_call_seconds histogram")
    for (method, stats) in methods {
      let histogram = stats.latency
      var cumulative: UInt64 = 0
      for (index, bound) in Self.bucketBounds.enumerated() {
        cumulative += histogram.buckets[index]
        lines.append(
          "kp_rpc_server_call_seconds_bucket{method=\"\(method)\",le=\"\(bound)\"} \(cumulative)")
      }
      lines.append(
        "kp_rpc_server_call_seconds_bucket{method=\"\(method)\",le=\"+Inf\"} \(histogram.count)")
      lines.append("kp_rpc_server_call_seconds_sum{method=\"\(method)\"} \(histogram.sum)")
      lines.append("kp_rpc_server_call_seconds_count{method=\"\(method)\"} \(histogram.count)")
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

extension RPCMetrics {
  /// Records a call a server handled, by its method's slot: how it ended (nil for OK) and how
  /// long its handler and interceptors ran.
  func record(slot: Int, outcome: RPCError?, elapsed: Duration) {
    let seconds = Double(elapsed.nanosecondsClamped) / 1e9
    record(slot: slot, code: outcome?.code ?? .ok, seconds: seconds)
  }
}
