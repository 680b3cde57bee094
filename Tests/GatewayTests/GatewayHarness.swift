import Foundation
import KPProtocol
import KPRPC
import KPTLS
import KPTesting
import Testing

/// The whole platform for one test: a fresh database, kp-tenants, kp-auth, kp-knowledge,
/// kp-ingest and kp-gateway as child processes over mutual TLS from one test CA, a platform
/// administrator, and curl as the HTTPS client.
final class GatewayHarness: @unchecked Sendable {
  /// The password every test user gets.
  static let userPassword = "correct horse battery"

  let mesh: TestMesh
  let services: [String: ServiceProcess]
  let gateway: ServiceProcess
  let httpsPort: Int
  let metricsPort: Int
  let caPath: String
  private(set) var adminToken = ""

  private init(_ platform: PlatformProcesses) {
    mesh = platform.mesh
    services = platform.services
    gateway = platform.gateway
    httpsPort = platform.httpsPort
    metricsPort = platform.gatewayMetricsPort
    caPath = platform.caPath
  }

  /// The gateway's external RPC port.
  var rpcPort: Int { gateway.port }

  /// Starts everything (``PlatformProcesses``, with tight HTTP limits on the gateway so tests
  /// reach them quickly), signs the platform administrator in, runs `body`, stops everything.
  ///
  /// - Parameter gatewayArguments: Extra gateway flags, after the harness's own.
  static func with(
    gatewayArguments: [String] = [], _ body: (GatewayHarness) async throws -> Void
  ) async throws {
    TLSRuntime.ignoreSIGPIPE()
    let limits = [
      "--http-request-timeout-seconds", "3", "--http-max-header-bytes", "4096",
      "--http-max-body-bytes", "65536", "--log-level", "info",
    ]
    try await PlatformProcesses.with(arguments: ["gateway": limits + gatewayArguments]) {
      platform in
      let harness = GatewayHarness(platform)
      harness.adminToken = try await harness.login(
        tenant: "", email: PlatformProcesses.adminEmail,
        password: PlatformProcesses.adminPassword)
      try await body(harness)
    }
  }

  // MARK: Requests

  /// Sends a request with curl and returns the answer.
  ///
  /// - Parameters:
  ///   - method: The method.
  ///   - path: The path and query.
  ///   - token: A bearer credential.
  ///   - body: A body; sent with `Content-Type: application/json` unless headers say otherwise.
  ///   - headers: More header fields.
  func request(
    _ method: String, _ path: String, token: String? = nil, body: [UInt8]? = nil,
    headers: [(String, String)] = []
  ) async throws -> CurlResponse {
    var arguments = [
      "/usr/bin/curl", "--silent", "--include", "--max-time", "15", "--cacert", caPath,
      "-X", method,
    ]
    if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
    var headers = headers
    if body != nil && !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
      headers.append(("Content-Type", "application/json"))
    }
    for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
    if body != nil { arguments += ["--data-binary", "@-"] }
    arguments.append("https://127.0.0.1:\(httpsPort)\(path)")
    let result = try await ChildProcess.run(arguments, input: body ?? [])
    return CurlResponse(included: result.output)
  }

  /// Sends a JSON object.
  func request(
    _ method: String, _ path: String, token: String? = nil, json: [String: Any],
    headers: [(String, String)] = []
  ) async throws -> CurlResponse {
    let data = try JSONSerialization.data(withJSONObject: json)
    return try await request(method, path, token: token, body: Array(data), headers: headers)
  }

  /// Sends the same GET `count` times, on one keep-alive connection or `parallel` at once, as
  /// fast as curl can; returns the statuses.
  func statuses(
    of path: String, token: String, count: Int, parallel: Int = 1
  ) async throws -> [Int] {
    var arguments = [
      "/usr/bin/curl", "--silent", "--max-time", "60", "--cacert", caPath,
      "-H", "Authorization: Bearer \(token)", "--write-out", "%{http_code}\\n",
    ]
    if parallel > 1 { arguments += ["--parallel", "--parallel-max", "\(parallel)"] }
    for _ in 0..<count {
      arguments += ["-o", "/dev/null", "https://127.0.0.1:\(httpsPort)\(path)"]
    }
    let result = try await ChildProcess.run(arguments)
    return String(decoding: result.output, as: UTF8.self).split(separator: "\n").compactMap {
      Int($0)
    }
  }

  /// Signs in and returns the access token.
  func login(tenant: String, email: String, password: String) async throws -> String {
    let response = try await request(
      "POST", "/v1/auth/login", json: ["tenant": tenant, "email": email, "password": password])
    guard response.status == 200 else {
      throw ChildProcess.Failure(description: "login failed: \(response.status) \(response.text)")
    }
    return response.string("access_token")
  }

  /// Creates a tenant with an owner; returns the tenant's id and the owner's token.
  func makeTenant(
    _ slug: String, plan: String = "enterprise"
  ) async throws -> (id: String, owner: String) {
    let created = try await request(
      "POST", "/v1/tenants", token: adminToken,
      json: ["slug": slug, "name": slug.capitalized, "plan": plan])
    guard created.status == 201 else {
      throw ChildProcess.Failure(description: "tenant: \(created.status) \(created.text)")
    }
    let email = "owner@\(slug).example"
    let user = try await request(
      "POST", "/v1/tenants/\(slug)/users", token: adminToken,
      json: ["email": email, "password": Self.userPassword, "role": "owner", "groups": ["staff"]])
    guard user.status == 201 else {
      throw ChildProcess.Failure(description: "owner: \(user.status) \(user.text)")
    }
    let token = try await login(tenant: slug, email: email, password: Self.userPassword)
    return (created.string("id"), token)
  }

  /// Adds a user with a role and signs them in; returns the user's id and token.
  func makeUser(
    tenant slug: String, email: String, role: String, groups: [String] = [], by token: String
  ) async throws -> (id: String, token: String) {
    let created = try await request(
      "POST", "/v1/tenants/\(slug)/users", token: token,
      json: ["email": email, "password": Self.userPassword, "role": role, "groups": groups])
    guard created.status == 201 else {
      throw ChildProcess.Failure(description: "user: \(created.status) \(created.text)")
    }
    let access = try await login(tenant: slug, email: email, password: Self.userPassword)
    return (created.string("id"), access)
  }

  /// Submits documents and waits for the job to finish; returns the job's final state.
  func ingest(
    _ documents: [[String: Any]], token: String, key: String = UUID().uuidString
  ) async throws -> CurlResponse {
    let submitted = try await request(
      "POST", "/v1/documents", token: token, json: ["documents": documents],
      headers: [("Idempotency-Key", key)])
    guard submitted.status == 202 else {
      throw ChildProcess.Failure(description: "ingest: \(submitted.status) \(submitted.text)")
    }
    let job = submitted.string("job_id")
    for _ in 0..<100 {
      let state = try await request("GET", "/v1/jobs/\(job)", token: token)
      if ["succeeded", "partially_failed", "failed"].contains(state.string("state")) {
        return state
      }
      try await Task.sleep(for: .milliseconds(100))
    }
    throw ChildProcess.Failure(description: "job \(job) did not finish in 10 s")
  }

  /// A tenant-wide text document.
  static func document(_ externalID: String, title: String, text: String) -> [String: Any] {
    [
      "source": "wiki", "external_id": externalID, "title": title, "content_type": "text/plain",
      "content": text, "acl": ["tenant_wide": true],
    ]
  }

  /// The gateway's admin-port metrics.
  func metrics() async throws -> String {
    let result = try await ChildProcess.run([
      "/usr/bin/curl", "--silent", "--max-time", "5", "http://127.0.0.1:\(metricsPort)/metrics",
    ])
    return String(decoding: result.output, as: UTF8.self)
  }

  /// A channel from a mesh identity to a running service.
  func meshChannel(from caller: String, to service: String) throws -> RPCChannel {
    try mesh.channel(from: caller, to: service, ports: [services[service]?.port ?? 0])
  }
}
