import Synchronization

/// The gateway's Prometheus figures: requests by route template and status, latency
/// histograms, refused requests, and every upstream call by service, method and status.
///
/// Labels are route templates (`/v1/documents/{id}`), never raw paths or tenant ids.
final class GatewayMetrics: Sendable {
  /// Histogram bucket upper bounds, in seconds.
  static let bounds: [Double] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  ]

  private struct Histogram {
    var buckets = [UInt64](repeating: 0, count: GatewayMetrics.bounds.count)
    var count: UInt64 = 0
    var sum: Double = 0

    mutating func add(_ seconds: Double) {
      if let index = GatewayMetrics.bounds.firstIndex(where: { seconds <= $0 }) {
        buckets[index] += 1
      }
      count += 1
      sum += seconds
    }
  }

  private struct State {
    var requests: [[String]: UInt64] = [:]
    var requestLatency: [[String]: Histogram] = [:]
    var upstreamCalls: [[String]: UInt64] = [:]
    var upstreamLatency: [[String]: Histogram] = [:]
    var rateLimited: UInt64 = 0
  }

  private let state = Mutex(State())

  /// An empty registry.
  init() {}

  /// Records one answered request.
  func recordRequest(route: String, method: String, status: Int, seconds: Double) {
    state.withLock { state in
      state.requests[[route, method, "\(status)"], default: 0] += 1
      state.requestLatency[[route, method], default: Histogram()].add(seconds)
    }
  }

  /// Records one upstream call.
  func recordUpstream(service: String, method: String, code: String, seconds: Double) {
    state.withLock { state in
      state.upstreamCalls[[service, method, code], default: 0] += 1
      state.upstreamLatency[[service, method], default: Histogram()].add(seconds)
    }
  }

  /// Counts a request refused by its tenant's rate limit.
  func recordRateLimited() {
    state.withLock { $0.rateLimited += 1 }
  }

  /// How many requests of a route template ended with a status.
  func requestCount(route: String, method: String, status: Int) -> UInt64 {
    state.withLock { $0.requests[[route, method, "\(status)"]] ?? 0 }
  }

  /// The figures in Prometheus text format, with gauges given by the caller.
  func prometheusText(
    openConnections: Int, queued: Int, inFlight: Int, queueRejected: Int
  ) -> String {
    let snapshot = state.withLock { $0 }
    var lines: [String] = []
    func header(_ name: String, _ type: String, _ help: String) {
      lines.append("# HELP \(name) \(help)")
      lines.append("# TYPE \(name) \(type)")
    }
    func labels(_ names: [String], _ values: [String]) -> String {
      zip(names, values).map { "\($0)=\"\(Self.escape($1))\"" }.joined(separator: ",")
    }
    func histogram(_ name: String, _ names: [String], _ data: [[String]: Histogram]) {
      for (key, histogram) in data.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
        let base = labels(names, key)
        var cumulative: UInt64 = 0
        for (index, bound) in Self.bounds.enumerated() {
          cumulative += histogram.buckets[index]
          lines.append("\(name)_bucket{\(base),le=\"\(bound)\"} \(cumulative)")
        }
        lines.append("\(name)_bucket{\(base),le=\"+Inf\"} \(histogram.count)")
        lines.append("\(name)_sum{\(base)} \(histogram.sum)")
        lines.append("\(name)_count{\(base)} \(histogram.count)")
      }
    }

    header("kp_gateway_requests_total", "counter", "HTTP requests by route template and status.")
    for (key, value) in snapshot.requests.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
      lines.append(
        "kp_gateway_requests_total{\(labels(["route", "method", "status"], key))} \(value)")
    }
    header(
      "kp_gateway_request_seconds", "histogram", "Time to answer a request, by route template.")
    histogram("kp_gateway_request_seconds", ["route", "method"], snapshot.requestLatency)
    header("kp_gateway_open_connections", "gauge", "HTTPS connections open now.")
    lines.append("kp_gateway_open_connections \(openConnections)")
    header("kp_gateway_queued_requests", "gauge", "Requests waiting for an upstream slot.")
    lines.append("kp_gateway_queued_requests \(queued)")
    header("kp_gateway_inflight_requests", "gauge", "Requests holding an upstream slot.")
    lines.append("kp_gateway_inflight_requests \(inFlight)")
    header("kp_gateway_rate_limited_total", "counter", "Requests refused by a tenant's limit.")
    lines.append("kp_gateway_rate_limited_total \(snapshot.rateLimited)")
    header("kp_gateway_queue_rejected_total", "counter", "Requests refused by a full queue.")
    lines.append("kp_gateway_queue_rejected_total \(queueRejected)")
    header(
      "kp_gateway_upstream_calls_total", "counter",
      "Calls to internal services by service, method and status.")
    for (key, value) in snapshot.upstreamCalls.sorted(by: {
      $0.key.lexicographicallyPrecedes($1.key)
    }) {
      lines.append(
        "kp_gateway_upstream_calls_total{\(labels(["service", "method", "code"], key))} \(value)")
    }
    header(
      "kp_gateway_upstream_call_seconds", "histogram",
      "Time of calls to internal services, by service and method.")
    histogram("kp_gateway_upstream_call_seconds", ["service", "method"], snapshot.upstreamLatency)
    return lines.joined(separator: "\n") + "\n"
  }

  private static func escape(_ value: String) -> String {
    value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
  }
}
