import Foundation
import KPProtocol
import KPRPC
import KPTLS
import KPTesting
import Testing

/// Refusals and hostile input, over real sockets on loopback.
@Suite("RPC refusals and hostile input", .serialized)
struct RPCSecurityTests {
  let mesh: TestMesh

  init() throws {
    TLSRuntime.ignoreSIGPIPE()
    mesh = try TestMesh()
  }

  private func echo(_ channel: RPCChannel) async throws -> Kp_Testing_V1_EchoResponse {
    var request = Kp_Testing_V1_EchoRequest()
    request.payload = Array("ping".utf8)
    var options = CallOptions()
    options.timeout = .seconds(3)
    return try await channel.unary(Kp_Testing_V1_Echo.echo, request, options: options)
  }

  private func expectRefused(_ channel: RPCChannel, _ why: String) async {
    do {
      _ = try await echo(channel)
      Issue.record("\(why): the call succeeded")
    } catch let error as RPCError {
      #expect(error.code == .unavailable, "\(why): \(error)")
    } catch {
      Issue.record("\(why): unexpected \(error)")
    }
    channel.close()
  }

  private func target(_ port: Int, _ service: String = "knowledge") -> RPCTarget {
    RPCTarget(
      endpoints: [SocketAddress(host: "127.0.0.1", port: port)],
      expectedIdentity: TestMesh.identity(service))
  }

  private var noRetry: RPCClientConfiguration {
    var configuration = RPCClientConfiguration()
    configuration.retry.maximumAttempts = 1
    return configuration
  }

  @Test("callers without the right certificate are refused; the server keeps serving")
  func certificateRefusals() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    defer { Task { await server.shutdown(grace: .zero) } }

    let noCertificate = try TLSContext(
      configuration: TLSConfiguration(role: .client, trustRootsPath: mesh.authority.certificatePath)
    )
    await expectRefused(
      RPCChannel(target: target(server.port), tls: noCertificate, configuration: noRetry),
      "no client certificate")

    let otherMesh = try TestMesh(name: "other-ca")
    let otherIssued = try otherMesh.authority.issue(identity: TestMesh.identity("gateway"))
    let otherCA = try TLSContext(
      configuration: .meshClient(
        certificateChain: otherIssued.certificateChainPath,
        privateKey: otherIssued.privateKeyPath,
        trustRoots: mesh.authority.certificatePath))
    await expectRefused(
      RPCChannel(target: target(server.port), tls: otherCA, configuration: noRetry),
      "certificate from another CA")

    let expired = try mesh.clientContext(
      service: "gateway", validFrom: Date().addingTimeInterval(-7200),
      validUntil: Date().addingTimeInterval(-3600))
    await expectRefused(
      RPCChannel(target: target(server.port), tls: expired, configuration: noRetry),
      "expired certificate")

    await expectRefused(
      RPCChannel(
        target: target(server.port, "auth"), tls: try mesh.clientContext(service: "gateway"),
        configuration: noRetry),
      "server with another identity than the one dialled")

    let good = try mesh.channel(from: "gateway", to: "knowledge", ports: [server.port])
    #expect(try await echo(good).payload == Array("ping".utf8))
    good.close()
  }

  @Test("plain TCP garbage before the handshake is dropped without harm")
  func garbageBeforeHandshake() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    defer { Task { await server.shutdown(grace: .zero) } }

    let peer = try RawPeer(port: server.port)
    peer.send(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
    let (_, closed) = peer.readUntilClosed(limit: 10)
    #expect(closed)

    let good = try mesh.channel(from: "gateway", to: "knowledge", ports: [server.port])
    #expect(try await echo(good).payload == Array("ping".utf8))
    good.close()
  }

  @Test("an FF FF FF FF length prefix gets a GOAWAY naming the limit, then close")
  func oversizeLengthPrefix() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    defer { Task { await server.shutdown(grace: .zero) } }

    let peer = try RawPeer.meshClient(mesh, port: server.port)
    peer.send([0xFF, 0xFF, 0xFF, 0xFF])
    let (envelopes, closed) = peer.readUntilClosed()

    #expect(closed)
    let reasons = envelopes.compactMap { envelope -> String? in
      if case .goaway(let goAway) = envelope.kind { return goAway.reason }
      return nil
    }
    #expect(reasons.count == 1)
    #expect(reasons.first?.contains("exceeds the maximum frame size") == true)
    try await waitUntil { server.connectionCount == 0 }
  }

  @Test("garbage after the handshake and a truncated frame close only that connection")
  func garbageAfterHandshake() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    defer { Task { await server.shutdown(grace: .zero) } }

    let garbage = try RawPeer.meshClient(mesh, port: server.port)
    garbage.send([0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
    let (envelopes, closed) = garbage.readUntilClosed()
    #expect(closed)
    #expect(
      envelopes.contains {
        if case .goaway(let goAway) = $0.kind { return goAway.reason.contains("malformed") }
        return false
      })

    do {
      let truncated = try RawPeer.meshClient(mesh, port: server.port)
      truncated.send([0, 0, 1, 0, 1, 2, 3])
    }

    try await waitUntil { server.connectionCount == 0 }
    let good = try mesh.channel(from: "gateway", to: "knowledge", ports: [server.port])
    #expect(try await echo(good).payload == Array("ping".utf8))
    good.close()
  }
}
