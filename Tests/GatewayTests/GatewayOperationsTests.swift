import Foundation
import KPTesting
import Synchronization
import Testing

@testable import Gateway

/// Rate limits, metrics, the access log, readiness and the OpenAPI document, against the real
/// mesh.
@Suite("kp-gateway limits and operations", .serialized)
struct GatewayOperationsTests {
  @Test("a tenant over its plan's rate gets 429 with Retry-After; others are not slowed")
  func rateLimit() async throws {
    try await GatewayHarness.with { gateway in
      let (_, small) = try await gateway.makeTenant("small", plan: "free")
      let (_, large) = try await gateway.makeTenant("large", plan: "enterprise")

      let statuses = try await gateway.statuses(of: "/v1/stats", token: small, count: 40)
      #expect(statuses.count == 40)
      let limited = try await gateway.request("GET", "/v1/stats", token: small)
      #expect(limited.status == 429)
      #expect(limited.errorCode == "RESOURCE_EXHAUSTED")
      let retryAfter = limited.headers["retry-after"]
      #expect(statuses.filter { $0 == 200 }.count >= 10, "the free plan's burst is 10")
      #expect(statuses.contains(429))
      #expect(Int(retryAfter ?? "") ?? 0 >= 1)
      #expect(try await gateway.request("GET", "/v1/stats", token: large).status == 200)
    }
  }

  @Test("one tenant's flood queues behind itself: another tenant's request goes first")
  func fairQueueing() async throws {
    try await GatewayHarness.with(gatewayArguments: ["--max-upstream-calls", "1"]) { gateway in
      let (_, flood) = try await gateway.makeTenant("flood")
      let (_, quiet) = try await gateway.makeTenant("quiet")
      let done = FloodState()

      let floodStarted = ContinuousClock.now
      let flooding = Task {
        defer { done.finished.withLock { $0 = true } }
        return try await gateway.statuses(
          of: "/v1/search?q=anything", token: flood, count: 360, parallel: 120)
      }
      var queued = 0
      for _ in 0..<300 where queued < 80 {
        let metrics = try await gateway.metrics()
        queued =
          metrics.split(separator: "\n")
          .first { $0.hasPrefix("kp_gateway_queued_requests ") }
          .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        try await Task.sleep(for: .milliseconds(10))
      }
      #expect(queued >= 80, "the flood filled its queue")

      let asked = ContinuousClock.now
      let answer = try await gateway.request("GET", "/v1/search?q=anything", token: quiet)
      let quietTime = ContinuousClock.now - asked
      let floodStillRunning = !done.finished.withLock { $0 }
      #expect(answer.status == 200)
      #expect(floodStillRunning, "the quiet tenant was served before the flood drained")
      let statuses = try await flooding.value
      let floodTime = ContinuousClock.now - floodStarted
      #expect(quietTime < floodTime / 6, "served in its turn, not behind the flood")
      #expect(statuses.count == 360)
      #expect(statuses.allSatisfy { $0 == 200 || $0 == 429 })
    }
  }

  /// Whether the flood finished.
  final class FloodState: Sendable {
    let finished = Mutex(false)
  }

  @Test("a stalled service answers 504 and a stopped one 503, and readiness says which")
  func unavailableServices() async throws {
    try await GatewayHarness.with(gatewayArguments: ["--upstream-timeout-seconds", "2"]) {
      gateway in
      let (_, owner) = try await gateway.makeTenant("acme")
      #expect(try await gateway.request("GET", "/v1/stats", token: owner).status == 200)

      let knowledge = try #require(gateway.services["knowledge"])
      kill(knowledge.pid, SIGSTOP)
      let stalled = try await gateway.request("GET", "/v1/stats", token: owner)
      kill(knowledge.pid, SIGCONT)
      #expect(stalled.status == 504)
      #expect(stalled.errorCode == "DEADLINE_EXCEEDED")

      let ingest = try #require(gateway.services["ingest"])
      ingest.kill(SIGKILL)
      let submitted = try await gateway.request(
        "POST", "/v1/documents", token: owner,
        json: ["documents": [GatewayHarness.document("a", title: "A", text: "a")]],
        headers: [("Idempotency-Key", "k")])
      #expect(submitted.status == 503)
      #expect(submitted.errorCode == "UNAVAILABLE")
      let ready = try await gateway.request("GET", "/readyz")
      #expect(ready.status == 503)
      let dependencies = ready.json["dependencies"] as? [String: String] ?? [:]
      #expect(dependencies["ingest"]?.hasPrefix("unreachable") == true)
      #expect(dependencies["auth"] == "ok")
    }
  }

  @Test("metrics, the access log, readiness and the OpenAPI document")
  func operations() async throws {
    try await GatewayHarness.with { gateway in
      let (tenantID, owner) = try await gateway.makeTenant("acme")
      _ = try await gateway.request(
        "GET", "/v1/search?q=anything", token: owner,
        headers: [
          ("X-Request-Id", "trace-me-1"),
          ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ])
      _ = try await gateway.request("GET", "/v1/documents/d_missing", token: owner)

      let ready = try await gateway.request("GET", "/readyz")
      #expect(ready.status == 200)
      #expect(
        (ready.json["dependencies"] as? [String: String])
          == ["auth": "ok", "tenants": "ok", "knowledge": "ok", "ingest": "ok"])
      #expect(try await gateway.request("GET", "/healthz").string("status") == "ok")

      let metrics = try await gateway.metrics()
      #expect(
        metrics.contains(
          #"kp_gateway_requests_total{route="/v1/search",method="GET",status="200"} 1"#))
      #expect(
        metrics.contains(
          #"kp_gateway_requests_total{route="/v1/documents/{id}",method="GET",status="404"} 1"#))
      #expect(metrics.contains("kp_gateway_request_seconds_bucket{route=\"/v1/search\""))
      #expect(metrics.contains("kp_gateway_open_connections"))
      let searchCalls =
        #"kp_gateway_upstream_calls_total{service="knowledge","#
        + #"method="/kp.knowledge.v1.Knowledge/Search",code="OK"}"#
      #expect(metrics.contains(searchCalls))
      #expect(!metrics.contains(tenantID))

      let log = gateway.gateway.log
      let line = try #require(
        log.split(separator: "\n").first { $0.contains("\"request_id\":\"trace-me-1\"") })
      #expect(line.contains("\"route\":\"/v1/search\""))
      #expect(line.contains("\"status\":\"200\""))
      #expect(line.contains("\"tenant\":\"\(tenantID)\""))
      #expect(line.contains("\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\""))
      #expect(!log.contains(owner))
      #expect(!log.contains(GatewayHarness.userPassword))
      #expect(!log.contains(PlatformProcesses.adminPassword))

      let document = try await gateway.request("GET", "/v1/openapi.json")
      #expect(document.status == 200)
      #expect(document.string("openapi") == "3.0.3")
      let paths = try #require(document.json["paths"] as? [String: [String: Any]])
      for route in GatewayAPI.routeTable {
        let operation = paths[route.template]?[route.method.rawValue.lowercased()]
        #expect(operation != nil, "\(route.method) \(route.template) is documented")
      }
    }
  }
}
