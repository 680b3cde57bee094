import Foundation
import KPTesting
import Testing

/// The built kp-load against the real platform: its counts must be what the gateway counted.
@Suite("kp-load against the real mesh", .serialized)
struct LoadMeshTests {
  /// Documents whose words the searches will use.
  static let documents: [(title: String, text: String)] = [
    ("Release planning", "The quarterly roadmap lists migrations and onboarding milestones."),
    ("Incident review", "Latency spikes followed a database failover in the gateway."),
    ("Security handbook", "Rotate credentials yearly; report phishing to the security desk."),
    ("Hiring guide", "Interview loops cover architecture, debugging and collaboration."),
    ("Budget memo", "Compute spending rose with analytics dashboards and retention."),
    ("Support escalation", "Customers reach engineering through escalation tickets."),
  ]

  @Test("a bounded run over two tenants reports exactly the calls the gateway counted")
  func countsMatchGatewayMetrics() async throws {
    try await LoadMesh.with { mesh in
      let (directory, credentials) = try await Self.prepare(mesh)
      defer { try? FileManager.default.removeItem(atPath: directory) }
      let report = "\(directory)/report.json"

      let before = try await mesh.gatewayCalls()
      let run = try await LoadMesh.runLoad([
        "--target", "127.0.0.1:\(mesh.gateway.port)", "--ca-file", mesh.caFile,
        "--credentials", credentials, "--connections", "2", "--concurrency", "4",
        "--mix", "search=70,get=20,ingest=10", "--warmup", "300ms", "--duration", "10s",
        "--requests", "200", "--seed", "7", "--json-out", report,
      ])
      let after = try await mesh.gatewayCalls()
      #expect(run.status == 0, "kp-load failed:\n\(run.log)")

      let json = try #require(
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report)))
          as? [String: Any])
      let overall = try #require(json["overall"] as? [String: Any])
      let operations = try #require(overall["operations"] as? [String: [String: Any]])
      let tenants = try #require(json["tenants"] as? [[String: Any]])
      let calls = try #require(json["calls"] as? [String: [String: Int]])

      // The request bound ended the run, every request succeeded, and searches found something.
      #expect(json["stopped_by"] as? String == "requests")
      #expect(overall["requests"] as? Int == 200)
      #expect(overall["ok"] as? Int == 200, "\(overall)")
      #expect(overall["empty_searches"] as? Int == 0)
      #expect(tenants.map { $0["tenant"] as? String } == ["acme", "globex"])
      #expect(tenants.map { $0["requests"] as? Int ?? 0 }.reduce(0, +) == 200)
      #expect(tenants.allSatisfy { ($0["requests"] as? Int ?? 0) > 0 })
      for name in ["search", "get", "ingest"] {
        #expect((operations[name]?["requests"] as? Int ?? 0) > 0, "no \(name) in \(operations)")
      }
      let latency = try #require(overall["latency_ms"] as? [String: Double])
      let p50 = latency["p50"] ?? 0
      let p99 = latency["p99"] ?? 0
      #expect(p50 > 0 && p50 <= p99 && p99 <= latency["max"] ?? 0)

      // Every call kp-load sent (sampling and warm-up included) is one the gateway counted.
      var delta: [String: [String: Int]] = [:]
      for (method, codes) in after {
        for (code, count) in codes {
          let grown = count - (before[method]?[code] ?? 0)
          if grown != 0 { delta[method, default: [:]][code] = grown }
        }
      }
      #expect(delta == calls, "gateway \(delta) vs kp-load \(calls)")
      let warmup = json["warmup_requests"] as? Int ?? -1
      let total = calls.values.flatMap(\.values).reduce(0, +)
      #expect(total == 200 + warmup + 2, "200 measured, \(warmup) warm-up, 2 listings")
      let search = calls["/kp.knowledge.v1.Knowledge/Search"]?["OK"] ?? 0
      #expect(search >= operations["search"]?["ok"] as? Int ?? 0)

      // A credential the gateway refuses ends the run before it starts, with status 1.
      let refused = try await LoadMesh.runLoad([
        "--target", "127.0.0.1:\(mesh.gateway.port)", "--ca-file", mesh.caFile,
        "--token", "not-a-token", "--requests", "5", "--warmup", "0",
      ])
      #expect(refused.status == 1)
      #expect(refused.log.contains("refused the credential of tenant 'default'"), "\(refused.log)")
      #expect(refused.log.contains("UNAUTHENTICATED"))
    }
  }

  @Test("over HTTPS, every request kp-load counts is one the gateway counted by route")
  func httpsCountsMatchGatewayMetrics() async throws {
    try await LoadMesh.with { mesh in
      let (directory, credentials) = try await Self.prepare(mesh)
      defer { try? FileManager.default.removeItem(atPath: directory) }
      let report = "\(directory)/report.json"

      let before = try await mesh.gatewayRequests()
      let run = try await LoadMesh.runLoad([
        "--https-target", "127.0.0.1:\(mesh.gatewayHTTPSPort)", "--ca-file", mesh.caFile,
        "--credentials", credentials, "--connections", "2", "--concurrency", "4",
        "--mix", "search=70,get=20,ingest=10", "--warmup", "0", "--duration", "10s",
        "--requests", "120", "--seed", "3", "--json-out", report,
      ])
      let after = try await mesh.gatewayRequests()
      #expect(run.status == 0, "kp-load failed:\n\(run.log)")

      let json = try #require(
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report)))
          as? [String: Any])
      let overall = try #require(json["overall"] as? [String: Any])
      let calls = try #require(json["calls"] as? [String: [String: Int]])
      #expect(json["transport"] as? String == "https")
      #expect(overall["requests"] as? Int == 120 && overall["ok"] as? Int == 120, "\(overall)")
      #expect(overall["empty_searches"] as? Int == 0)
      #expect(
        Set(calls.keys) == ["GET /v1/search", "GET /v1/documents/{id}", "POST /v1/documents"])

      // Each route grew by exactly the requests kp-load sent on it, all with a 2xx status.
      for (call, codes) in calls {
        #expect(codes.keys.sorted() == ["OK"], "\(call): \(codes)")
        var grown: [String: Int] = [:]
        for (status, count) in after[call] ?? [:] {
          let delta = count - (before[call]?[status] ?? 0)
          if delta != 0 { grown[status] = delta }
        }
        #expect(grown.values.reduce(0, +) == codes["OK"], "\(call): gateway \(grown)")
        #expect(grown.keys.allSatisfy { $0.hasPrefix("2") }, "\(call): \(grown)")
      }
    }
  }

  @Test("an unreachable gateway or a bad flag ends with a clear message and a failure status")
  func failures() async throws {
    let unreachable = try await LoadMesh.runLoad([
      "--target", "127.0.0.1:1", "--ca-file", "", "--token", "t", "--requests", "5",
    ])
    #expect(unreachable.status == 1)
    #expect(unreachable.log.contains("cannot reach the gateway at 127.0.0.1:1"))

    let badFlag = try await LoadMesh.runLoad([
      "--mix", "search=1,fetch=2", "--ca-file", "", "--token", "t",
    ])
    #expect(badFlag.status == 2)
    #expect(badFlag.log.contains("fetch=2"))
  }

  /// Makes two tenants with documents; returns a scratch directory and the credentials file
  /// in it.
  private static func prepare(_ mesh: LoadMesh) async throws -> (String, String) {
    var lines: [String] = []
    for slug in ["acme", "globex"] {
      let (id, token) = try await mesh.makeTenant(slug)
      try await mesh.store(id, documents)
      lines.append("\(slug) \(token)")
    }
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("kp-load-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(
      atPath: directory, withIntermediateDirectories: true)
    let credentials = "\(directory)/credentials"
    try (lines.joined(separator: "\n") + "\n").write(
      toFile: credentials, atomically: true, encoding: .utf8)
    return (directory, credentials)
  }
}
