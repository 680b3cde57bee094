import Foundation
import KPProtocol
import KPRPC
import KPTLS
import KPTesting
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A real service executable: mutual TLS, health, metrics over HTTP, and a graceful drain on
/// SIGTERM.
@Suite("Mesh service process", .serialized)
struct MeshServiceProcessTests {
  /// Where `swift build` put the executables: beside the test bundle.
  private static var binaryDirectory: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  }

  /// Writes a certificate directory laid out as the services expect.
  private func certificates(_ mesh: TestMesh, services: [String]) throws -> URL {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("kp-certs-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try mesh.authority.certificatePEM.write(
      to: directory.appendingPathComponent("ca.pem"), atomically: true, encoding: .utf8)
    for service in services {
      let issued = try mesh.authority.issue(identity: TestMesh.identity(service))
      try issued.certificatePEM.write(
        to: directory.appendingPathComponent("\(service).pem"), atomically: true,
        encoding: .utf8)
      try issued.privateKeyPEM.write(
        to: directory.appendingPathComponent("\(service).key"), atomically: true,
        encoding: .utf8)
    }
    return directory
  }

  /// Reads lines from the process's standard error until one contains `marker`.
  private func waitForLine(
    containing marker: String, in pipe: Pipe, seconds: Double = 20
  ) async throws -> String {
    var collected = ""
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      let chunk = pipe.fileHandleForReading.availableData
      if chunk.isEmpty {
        try await Task.sleep(for: .milliseconds(20))
        continue
      }
      collected += String(decoding: chunk, as: UTF8.self)
      if let line = collected.split(separator: "\n").first(where: { $0.contains(marker) }) {
        return String(line)
      }
    }
    Issue.record("no line with '\(marker)' within \(seconds) s; output so far: \(collected)")
    return ""
  }

  private func field(_ name: String, in line: String) -> Int? {
    line.split(separator: " ").first { $0.hasPrefix("\(name)=") }
      .flatMap { Int($0.dropFirst(name.count + 1)) }
  }

  @Test("kp-knowledge, its loops busy polling, serves health and metrics and drains on SIGTERM")
  func serveAndDrain() async throws {
    TLSRuntime.ignoreSIGPIPE()
    let binary = Self.binaryDirectory.appendingPathComponent("kp-knowledge")
    try #require(FileManager.default.isExecutableFile(atPath: binary.path), "\(binary.path)")
    let mesh = try TestMesh()
    let certs = try certificates(mesh, services: ["knowledge", "cli"])
    defer { try? FileManager.default.removeItem(at: certs) }

    let process = Process()
    process.executableURL = binary
    process.arguments = [
      "--listen-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
      "--certs-dir", certs.path, "--shutdown-grace-seconds", "5",
      "--busy-poll-microseconds", "50",
    ]
    let output = Pipe()
    process.standardError = output
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    defer { if process.isRunning { process.terminate() } }

    let serving = try await waitForLine(containing: "serving", in: output)
    let rpcPort = try #require(field("rpc_port", in: serving))
    let metricsPort = try #require(field("metrics_port", in: serving))

    let channel = try mesh.channel(from: "gateway", to: "knowledge", ports: [rpcPort])
    let health = try await channel.unary(
      Kp_Health_V1_Health.check, Kp_Health_V1_HealthCheckRequest())
    #expect(health.status == .serving)

    let (body, response) = try await URLSession.shared.data(
      from: URL(string: "http://127.0.0.1:\(metricsPort)/metrics")!)
    #expect((response as? HTTPURLResponse)?.statusCode == 200)
    #expect(
      String(decoding: body, as: UTF8.self).contains(
        "kp_rpc_server_calls_total{method=\"/kp.health.v1.Health/Check\",code=\"OK\"} 1"))

    // `kp status` asks the same port over mutual TLS, as the cli identity.
    let status = Process()
    status.executableURL = Self.binaryDirectory.appendingPathComponent("kp")
    status.arguments = [
      "status", "--certs-dir", certs.path, "--addresses", "knowledge=127.0.0.1:\(rpcPort)",
    ]
    let statusOutput = Pipe()
    status.standardOutput = statusOutput
    try status.run()
    status.waitUntilExit()
    let table = String(
      decoding: statusOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(status.terminationStatus == 0)
    #expect(table.contains("kp-knowledge  127.0.0.1:\(rpcPort)"))
    #expect(table.contains("SERVING"))

    kill(process.processIdentifier, SIGTERM)
    let deadline = Date().addingTimeInterval(10)
    while process.isRunning && Date() < deadline {
      try await Task.sleep(for: .milliseconds(20))
    }
    #expect(!process.isRunning)
    #expect(process.terminationStatus == 0)
    channel.close()
  }

  /// Runs a service (`kp-knowledge` unless named) on ephemeral ports with more arguments until
  /// it exits; returns its exit status and standard error.
  private func serviceExit(_ arguments: [String], service: String = "kp-knowledge") throws
    -> (status: Int32, errors: String)
  {
    let binary = Self.binaryDirectory.appendingPathComponent(service)
    try #require(FileManager.default.isExecutableFile(atPath: binary.path), "\(binary.path)")
    let process = Process()
    process.executableURL = binary
    process.arguments =
      ["--listen-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0"] + arguments
    let output = Pipe()
    process.standardError = output
    try process.run()
    process.waitUntilExit()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return (process.terminationStatus, text)
  }

  @Test("a missing certificate directory stops start-up with a message naming the file")
  func missingCertificates() async throws {
    let (status, text) = try serviceExit(["--certs-dir", "/nonexistent/kp-certs"])
    // A setting that points nowhere is a usage error.
    #expect(status == 2)
    #expect(text.contains("/nonexistent/kp-certs/knowledge.pem is missing"))
  }

  @Test("a busy-poll budget out of range stops start-up with a message naming the setting")
  func busyPollOutOfRange() async throws {
    let mesh = try TestMesh()
    let certs = try certificates(mesh, services: ["knowledge"])
    defer { try? FileManager.default.removeItem(at: certs) }
    for value in ["-1", "10001", "fast"] {
      let (status, text) = try serviceExit(
        ["--certs-dir", certs.path, "--busy-poll-microseconds", value])
      #expect(status == 2, "\(value)")
      #expect(
        text.contains("setting 'busy-poll-microseconds' is '\(value)'")
          && text.contains("a whole number from 0 to 10000"), "\(text)")
    }

    // Checked before the service is built: kp-auth refuses the setting without reaching for
    // its database (which here does not exist) or writing anything to it.
    let (status, text) = try serviceExit(
      [
        "--certs-dir", certs.path, "--busy-poll-microseconds", "-1",
        "--database-url", "postgresql://postgres@127.0.0.1:1/none",
      ], service: "kp-auth")
    #expect(status == 2)
    #expect(text.contains("busy-poll-microseconds") && !text.contains("127.0.0.1:1"), "\(text)")
  }
}
