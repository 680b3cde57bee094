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

  private struct Key: Hashable {
    let method: String
    let code: String
  }

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

  private struct State {
    var calls: [Key: UInt64] = [:]
    var latency: [String: Histogram] = [:]
  }

  private let state = Mutex(State())

  /// An empty registry.
  public init() {}

  /// Records one finished call.
  public func record(method: String, code: RPCError.Code, seconds: Double, known: Bool = true) {
    let method = known ? method : "unknown"
    let bucket = Self.bucketBounds.firstIndex(where: { seconds <= $0 })
    state.withLock { state in
      state.calls[Key(method: method, code: code.name), default: 0] += 1
      // Updated in place: a copy out and back would copy the bucket array on every call.
      state.latency[method, default: Histogram()].record(seconds, bucket: bucket)
    }
  }

  /// How many calls of a method ended with a code.
  public func count(method: String, code: RPCError.Code) -> UInt64 {
    state.withLock { $0.calls[Key(method: method, code: code.name)] ?? 0 }
  }

  /// The metrics in Prometheus text exposition format.
  public func prometheusText() -> String {
    let snapshot = state.withLock { $0 }
    var lines: [String] = []

    lines.append("# HELP kp_rpc_server_calls_total Calls handled, by method and status code.")
    lines.append("# TYPE kp_rpc_server_calls_total counter")
    for (key, value) in snapshot.calls.sorted(by: {
      ($0.key.method, $0.key.code) < ($1.key.method, $1.key.code)
    }) {
      lines.append(
        "kp_rpc_server_calls_total{method=\"\(key.method)\",code=\"\(key.code)\"} \(value)")
    }

    lines.append("# HELP kp_rpc_server_call_seconds Time to handle a call, by method.")
    lines.append("# TYPE kp_rpc_server_call_seconds histogram")
    for (method, histogram) in snapshot.latency.sorted(by: { $0.key < $1.key }) {
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
  /// Records a call a server handled: how it ended (nil for OK) and how long its handler and
  /// interceptors ran.
  func record(call method: String, outcome: RPCError?, elapsed: Duration) {
    let seconds = Double(elapsed.nanosecondsClamped) / 1e9
    record(method: method, code: outcome?.code ?? .ok, seconds: seconds)
  }
}
