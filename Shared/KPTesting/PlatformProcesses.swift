import Foundation

/// The whole platform for one test, as a user meets it: kp-tenants, kp-auth, kp-knowledge,
/// kp-ingest and kp-gateway as separate child processes on a fresh database, talking mutual
/// TLS with certificates from one test CA, and a platform administrator who can sign in.
///
/// ```swift
/// try await PlatformProcesses.with { platform in
///   let url = "https://127.0.0.1:\(platform.httpsPort)"
/// }
/// ```
public final class PlatformProcesses: @unchecked Sendable {
  /// The platform administrator's sign-in email.
  public static let adminEmail = "root@platform.example"
  /// The platform administrator's password.
  public static let adminPassword = "platform admin password"

  /// The test CA and its certificates.
  public let mesh: TestMesh
  /// Every service's process, by service name (`tenants`, `auth`, ...).
  public let services: [String: ServiceProcess]
  /// The gateway's HTTPS API port.
  public let httpsPort: Int
  /// The gateway's admin port (/metrics, /healthz).
  public let gatewayMetricsPort: Int

  /// The gateway's process.
  public var gateway: ServiceProcess { services["gateway"]! }
  /// The gateway's external RPC port.
  public var rpcPort: Int { gateway.port }
  /// The CA certificate clients trust.
  public var caPath: String { mesh.authority.certificatePath }
  /// The gateway's HTTPS address.
  public var gatewayURL: String { "https://127.0.0.1:\(httpsPort)" }

  private init(
    mesh: TestMesh, services: [String: ServiceProcess], httpsPort: Int, gatewayMetricsPort: Int
  ) {
    self.mesh = mesh
    self.services = services
    self.httpsPort = httpsPort
    self.gatewayMetricsPort = gatewayMetricsPort
  }

  /// Starts every service on a fresh database, runs `body`, and stops everything.
  ///
  /// Passwords are hashed with cheap argon2id parameters, and tenant and key caches are short,
  /// so tests see changes quickly.
  ///
  /// - Parameters:
  ///   - arguments: Extra flags per service name, after the fixture's own.
  ///   - body: The test.
  public static func with(
    arguments: [String: [String]] = [:], _ body: (PlatformProcesses) async throws -> Void
  ) async throws {
    let mesh = try TestMesh()
    try await PostgresFixture.withDatabase { url in
      let platform = try await start(
        mesh: mesh, databaseURL: url, quick: true, arguments: arguments)
      defer { platform.stop() }
      try await body(platform)
    }
  }

  /// Starts kp-tenants, kp-auth, kp-knowledge, kp-ingest and kp-gateway on `databaseURL`, on
  /// ephemeral loopback ports with certificates from `mesh`, and the platform administrator
  /// from ``adminEmail`` and ``adminPassword``. If one fails to start, those already started
  /// are stopped.
  ///
  /// - Parameters:
  ///   - mesh: The CA whose certificates the services use.
  ///   - databaseURL: The database every service stores in (one cluster, `main`).
  ///   - quick: Cheap argon2id parameters and short tenant and key caches, so tests see changes
  ///     at once; otherwise each service keeps its defaults, as benchmarks want.
  ///   - arguments: Extra flags per service name, after the fixture's own.
  /// - Returns: The running platform; call ``stop()`` when done.
  public static func start(
    mesh: TestMesh, databaseURL: String, quick: Bool, arguments: [String: [String]] = [:]
  ) async throws -> PlatformProcesses {
    var started: [String: ServiceProcess] = [:]
    do {
      func start(_ service: String, _ own: [String]) async throws -> ServiceProcess {
        let process = try await ServiceProcess.start(
          "kp-\(service)",
          arguments: [
            "--certs-dir", try mesh.certificatesDirectory(for: service),
            "--listen-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
          ] + own + (arguments[service] ?? []))
        started[service] = process
        return process
      }
      let caches = quick ? ["--tenant-cache-seconds", "0"] : []
      let cheapPasswords =
        quick ? ["--password-memory-kib", "1024", "--password-iterations", "1"] : []

      let database = ["--database-clusters", "main=\(databaseURL)"]
      let tenants = try await start("tenants", database)
      let keyFile = FileManager.default.temporaryDirectory
        .appendingPathComponent("kp-platform-kek-\(UUID().uuidString)").path
      defer { try? FileManager.default.removeItem(atPath: keyFile) }
      let auth = try await start(
        "auth",
        database + caches + cheapPasswords + [
          "--tenants-address", "127.0.0.1:\(tenants.port)",
          "--key-encryption-key-file", keyFile, "--platform-admin-email", adminEmail,
          "--platform-admin-password-hash", try await passwordHash(adminPassword),
        ])
      let knowledge = try await start("knowledge", database)
      let ingest = try await start(
        "ingest", database + caches + ["--knowledge-address", "127.0.0.1:\(knowledge.port)"])

      let certificates = try mesh.certificatesDirectory(for: "gateway")
      let gatewayCaches =
        quick ? ["--tenant-cache-seconds", "1", "--api-key-cache-seconds", "1"] : []
      let gateway = try await start(
        "gateway",
        gatewayCaches + [
          "--https-address", "127.0.0.1:0",
          "--https-certificate", "\(certificates)/gateway.pem",
          "--https-private-key", "\(certificates)/gateway.key",
          "--auth-address", "127.0.0.1:\(auth.port)",
          "--tenants-address", "127.0.0.1:\(tenants.port)",
          "--knowledge-address", "127.0.0.1:\(knowledge.port)",
          "--ingest-address", "127.0.0.1:\(ingest.port)",
        ])
      guard let https = announced(gateway.log, "https_port"),
        let metrics = announced(gateway.log, "metrics_port")
      else {
        throw ChildProcess.Failure(
          description: "kp-gateway announced no https_port or metrics_port:\n\(gateway.log)")
      }
      return PlatformProcesses(
        mesh: mesh, services: started, httpsPort: https, gatewayMetricsPort: metrics)
    } catch {
      stop(started)
      throw error
    }
  }

  /// Stops every service, the gateway first.
  public func stop() { Self.stop(services) }

  private static func stop(_ services: [String: ServiceProcess]) {
    for name in ["gateway", "ingest", "knowledge", "auth", "tenants"] {
      services[name]?.stop()
    }
  }

  /// A number field of the `serving` line a service logs (`--log-format json`).
  public static func announced(_ log: String, _ field: String) -> Int? {
    for line in log.split(separator: "\n") where line.contains("\"message\":\"serving\"") {
      guard let range = line.range(of: "\"\(field)\":\"") else { continue }
      return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
    return nil
  }

  /// An argon2id hash from `kp-auth hash-password`, with cheap test parameters.
  public static func passwordHash(_ password: String) async throws -> String {
    let executable = ServiceProcess.buildDirectory.appendingPathComponent("kp-auth").path
    let result = try await ChildProcess.run(
      [executable, "hash-password", "--password-memory-kib", "1024", "--password-iterations", "1"],
      input: Array((password + "\n").utf8))
    let hash = String(decoding: result.output, as: UTF8.self)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    guard result.status == 0, !hash.isEmpty else {
      throw ChildProcess.Failure(description: "kp-auth hash-password failed")
    }
    return hash
  }
}
