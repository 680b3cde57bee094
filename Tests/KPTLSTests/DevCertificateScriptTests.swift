import Foundation
import KPTLS
import Testing

/// The repository's `scripts/make-dev-certs`, found from this file's location.
private let scriptPath = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("scripts/make-dev-certs").path

private let openSSLInstalled = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl"]
  .contains { FileManager.default.isExecutableFile(atPath: $0) }

@Suite("scripts/make-dev-certs")
struct DevCertificateScriptTests {
  /// Runs the script into `directory`; returns its exit status and standard output.
  private func runScript(into directory: String) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [scriptPath]
    var environment = ProcessInfo.processInfo.environment
    environment["KP_CERTS_DIR"] = directory
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let deadline = Date().addingTimeInterval(60)
    while process.isRunning && Date() < deadline {
      Thread.sleep(forTimeInterval: 0.02)
    }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    let text = String(
      decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return (process.terminationStatus, text)
  }

  @Test(
    "makes working mesh and external certificates, idempotently",
    .enabled(if: openSSLInstalled, "needs the openssl command-line tool"))
  func makesWorkingCertificates() throws {
    TLSRuntime.ignoreSIGPIPE()
    let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent(
      "kp-dev-certs-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(atPath: directory) }

    let (status, output) = try runScript(into: directory)
    #expect(status == 0, "\(output)")
    let (again, secondOutput) = try runScript(into: directory)
    #expect(again == 0)
    #expect(secondOutput.contains("nothing to do"), "\(secondOutput)")

    func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
    let keyMode =
      try FileManager.default.attributesOfItem(atPath: path("auth.key"))[
        .posixPermissions] as? Int
    #expect(keyMode == 0o600)

    // A mesh handshake between two of the script's identities.
    let server = try TLSContext(
      configuration: .meshServer(
        certificateChain: path("auth.pem"), privateKey: path("auth.key"),
        trustRoots: path("ca.pem")))
    let client = try TLSContext(
      configuration: .meshClient(
        certificateChain: path("gateway.pem"), privateKey: path("gateway.key"),
        trustRoots: path("ca.pem")))
    let connection = try LoopbackConnection.make()
    let serverSession = try TLSSession(
      context: server, fileDescriptor: connection.server, expectedPeerIdentity: nil,
      serverName: nil)
    let clientSession = try TLSSession(
      context: client, fileDescriptor: connection.client,
      expectedPeerIdentity: "spiffe://knowledgeplane/svc/auth", serverName: "localhost")
    let outcome = runHandshakes(client: clientSession, server: serverSession, over: connection)
    #expect(outcome.client.succeeded, "client: \(outcome.client)")
    #expect(outcome.server.succeeded, "server: \(outcome.server)")
    #expect(serverSession.peerIdentity?.primary == "spiffe://knowledgeplane/svc/gateway")

    // The external certificate serves server-only TLS, checked against 127.0.0.1.
    let external = try TLSContext(
      configuration: .externalServer(
        certificateChain: path("gateway-external.pem"), privateKey: path("gateway-external.key")))
    let outside = try TLSContext(configuration: .externalClient(trustRoots: path("ca.pem")))
    let second = try LoopbackConnection.make()
    let outsideSession = try TLSSession(
      context: outside, fileDescriptor: second.client, expectedPeerIdentity: nil,
      serverName: "127.0.0.1")
    let externalSession = try TLSSession(
      context: external, fileDescriptor: second.server, expectedPeerIdentity: nil,
      serverName: nil)
    let outcome2 = runHandshakes(client: outsideSession, server: externalSession, over: second)
    #expect(outcome2.client.succeeded, "client: \(outcome2.client)")
    #expect(outcome2.server.succeeded, "server: \(outcome2.server)")
  }
}
