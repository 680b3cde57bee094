import Testing

@testable import KPRPC

/// The per-method counters and histograms, and their Prometheus text, without a server.
@Suite("RPC metrics")
struct RPCMetricsTests {
  @Test("calls recorded by name and by slot add up; only methods with calls are exported")
  func countsAndText() {
    let metrics = RPCMetrics()
    let echo = metrics.slot(for: "/kp.testing.v1.Echo/Echo")
    _ = metrics.slot(for: "/kp.testing.v1.Echo/Never")
    #expect(metrics.slot(for: "/kp.testing.v1.Echo/Echo") == echo)

    metrics.record(slot: echo, outcome: nil, elapsed: .microseconds(50))
    metrics.record(slot: echo, outcome: nil, elapsed: .milliseconds(3))
    metrics.record(slot: echo, outcome: RPCError(.notFound, "no"), elapsed: .milliseconds(20))
    metrics.record(
      slot: echo, outcome: RPCError(RPCError.Code(rawValue: 42), "odd"), elapsed: .seconds(20))
    metrics.record(method: "/kp.testing.v1.Echo/Echo", code: .notFound, seconds: 0)
    metrics.record(method: "/a.B/Nope", code: .unimplemented, seconds: 0, known: false)

    #expect(metrics.count(method: "/kp.testing.v1.Echo/Echo", code: .ok) == 2)
    #expect(metrics.count(method: "/kp.testing.v1.Echo/Echo", code: .notFound) == 2)
    #expect(
      metrics.count(method: "/kp.testing.v1.Echo/Echo", code: RPCError.Code(rawValue: 42)) == 1)
    #expect(metrics.count(method: "unknown", code: .unimplemented) == 1)
    #expect(metrics.count(method: "/kp.testing.v1.Echo/Never", code: .ok) == 0)
    #expect(metrics.count(method: "/a.B/Nope", code: .unimplemented) == 0)

    let lines = metrics.prometheusText().split(separator: "\n").map(String.init)
    let calls = lines.filter { $0.hasPrefix("kp_rpc_server_calls_total{") }
    #expect(
      calls == [
        #"kp_rpc_server_calls_total{method="/kp.testing.v1.Echo/Echo",code="CODE_42"} 1"#,
        #"kp_rpc_server_calls_total{method="/kp.testing.v1.Echo/Echo",code="NOT_FOUND"} 2"#,
        #"kp_rpc_server_calls_total{method="/kp.testing.v1.Echo/Echo",code="OK"} 2"#,
        #"kp_rpc_server_calls_total{method="unknown",code="UNIMPLEMENTED"} 1"#,
      ])
    #expect(!lines.contains { $0.contains("Echo/Never") })
    #expect(
      lines.contains(
        #"kp_rpc_server_call_seconds_bucket{method="/kp.testing.v1.Echo/Echo",le="0.0001"} 2"#))
    #expect(
      lines.contains(
        #"kp_rpc_server_call_seconds_bucket{method="/kp.testing.v1.Echo/Echo",le="0.005"} 3"#))
    #expect(
      lines.contains(
        #"kp_rpc_server_call_seconds_bucket{method="/kp.testing.v1.Echo/Echo",le="10.0"} 4"#))
    #expect(
      lines.contains(
        #"kp_rpc_server_call_seconds_bucket{method="/kp.testing.v1.Echo/Echo",le="+Inf"} 5"#))
    #expect(lines.contains(#"kp_rpc_server_call_seconds_count{method="unknown"} 1"#))
  }
}
