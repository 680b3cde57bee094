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
  /// The platform administrator's sign-in.
  static let adminEmail = "root@gateway.example"
  static let adminPassword = "platform admin password"
  /// The password every test user gets.
  static let userPassword = "correct horse battery"

  let mesh: TestMesh
  let services: [String: ServiceProcess]
  let gateway: ServiceProcess
  let httpsPort: Int
  let metricsPort: Int
  let caPath: String
  private(set) var adminToken = ""

  private init(
    mesh: TestMesh, services: [String: ServiceProcess], gateway: ServiceProcess,
    httpsPort: Int, metricsPort: Int
  ) {
    self.mesh = mesh
    self.services = services
    self.gateway = gateway
    self.httpsPort = httpsPort
    self.metricsPort = metricsPort
    caPath = mesh.authority.certificatePath
  }

  /// The gateway's external RPC port.
  var rpcPort: Int { gateway.port }

  /// Starts everything, runs `body`, stops everything.
  ///
  /// - Parameter gatewayArguments: Extra gateway flags, after the harness's own.
  static func with(
    gatewayArguments: [String] = [], _ body: (GatewayHarness) async throws -> Void
  ) async throws {
    TLSRuntime.ignoreSIGPIPE()
    let mesh = try TestMesh()
    try await PostgresFixture.withDatabase { url in
      var started: [String: ServiceProcess] = [:]
      defer {
        for process in started.values { process.stop() }
      }
      func start(_ service: String, _ arguments: [String]) async throws -> ServiceProcess {
        let process = try await ServiceProcess.start(
          "kp-\(service)",
          arguments: [
            "--certs-dir", try mesh.certificatesDirectory(for: service), "--listen-address",
            "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
          ] + arguments)
        started[service] = process
        return process
      }
      let database = ["--database-clusters", "main=\(url)"]
      let tenants = try await start("tenants", database)
      let hash = try await passwordHash(adminPassword)
      let keyFile = FileManager.default.temporaryDirectory
        .appendingPathComponent("kp-gateway-test-kek-\(UUID().uuidString)").path
      defer { try? FileManager.default.removeItem(atPath: keyFile) }
      let auth = try await start(
        "auth",
        database + [
          "--tenants-address", "127.0.0.1:\(tenants.port)", "--tenant-cache-seconds", "0",
          "--password-memory-kib", "1024", "--password-iterations", "1",
          "--key-encryption-key-file", keyFile, "--platform-admin-email", adminEmail,
          "--platform-admin-password-hash", hash,
        ])
      let knowledge = try await start("knowledge", database)
      let ingest = try await start(
        "ingest",
        database + [
          "--knowledge-address", "127.0.0.1:\(knowledge.port)", "--tenant-cache-seconds", "0",
        ])
      let certificates = try mesh.certificatesDirectory(for: "gateway")
      let gateway = try await start(
        "gateway",
        [
          "--https-address", "127.0.0.1:0",
          "--https-certificate", "\(certificates)/gateway.pem",
          "--https-private-key", "\(certificates)/gateway.key",
          "--auth-address", "127.0.0.1:\(auth.port)",
          "--tenants-address", "127.0.0.1:\(tenants.port)",
          "--knowledge-address", "127.0.0.1:\(knowledge.port)",
          "--ingest-address", "127.0.0.1:\(ingest.port)",
          "--tenant-cache-seconds", "1", "--api-key-cache-seconds", "1",
          "--http-request-timeout-seconds", "3", "--http-max-header-bytes", "4096",
          "--http-max-body-bytes", "65536", "--log-level", "info",
        ] + gatewayArguments)
      let https = try #require(announced(gateway.log, "https_port"))
      let metrics = try #require(announced(gateway.log, "metrics_port"))
      let harness = GatewayHarness(
        mesh: mesh, services: started, gateway: gateway, httpsPort: https, metricsPort: metrics)
      harness.adminToken = try await harness.login(
        tenant: "", email: adminEmail, password: adminPassword)
      try await body(harness)
    }
  }

  private static func announced(_ log: String, _ field: String) -> Int? {
    for line in log.split(separator: "\n") where line.contains("\"message\":\"serving\"") {
      guard let range = line.range(of: "\"\(field)\":\"") else { continue }
      return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
    return nil
  }

  /// An argon2id hash from `kp-auth hash-password`, with cheap test parameters.
  private static func passwordHash(_ password: String) async throws -> String {
    let executable = ServiceProcess.buildDirectory.appendingPathComponent("kp-auth").path
    let result = try await ChildProcess.run(
      [executable, "hash-password", "--password-memory-kib", "1024", "--password-iterations", "1"],
      input: Array((password + "\n").utf8))
    return String(decoding: result.output, as: UTF8.self)
      .trimmingCharacters(in: .whitespacesAndNewlines)
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
