import KPProtocol
import KPRPC
import KPTLS
import KPTesting
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The configurable limits, each exercised over real sockets on loopback.
@Suite("RPC limits", .serialized)
struct RPCLimitTests {
  let mesh: TestMesh

  init() throws {
    TLSRuntime.ignoreSIGPIPE()
    mesh = try TestMesh()
  }

  private func echo(_ channel: RPCChannel, timeout: Duration = .seconds(3)) async throws(RPCError)
    -> Kp_Testing_V1_EchoResponse
  {
    var request = Kp_Testing_V1_EchoRequest()
    request.payload = Array("ping".utf8)
    return try await channel.unary(
      Kp_Testing_V1_Echo.echo, request, options: CallOptions(timeout: timeout))
  }

  private var oneAttempt: RPCClientConfiguration {
    var configuration = RPCClientConfiguration()
    configuration.retry.maximumAttempts = 1
    return configuration
  }

  @Test("connections beyond the maximum are closed on arrival")
  func maximumConnections() async throws {
    var configuration = RPCServerConfiguration()
    configuration.maximumConnections = 2
    let server = try mesh.startServer(
      service: "knowledge", offering: [EchoService()], configuration: configuration)
    defer { Task { await server.shutdown(grace: .zero) } }

    let first = try mesh.channel(
      from: "gateway", to: "knowledge", ports: [server.port], configuration: oneAttempt)
    let second = try mesh.channel(
      from: "gateway", to: "knowledge", ports: [server.port], configuration: oneAttempt)
    _ = try await echo(first)
    _ = try await echo(second)
    #expect(server.connectionCount == 2)

    let third = try mesh.channel(
      from: "gateway", to: "knowledge", ports: [server.port], configuration: oneAttempt)
    do {
      _ = try await echo(third)
      Issue.record("a third connection was served")
    } catch {
      #expect(error.code == .unavailable)
    }
    first.close()
    try await waitUntil { server.connectionCount == 1 }
    let fourth = try mesh.channel(
      from: "gateway", to: "knowledge", ports: [server.port], configuration: oneAttempt)
    _ = try await echo(fourth)
    second.close()
    fourth.close()
  }

  @Test("an idle connection is closed by the server and the client reconnects transparently")
  func idleTimeout() async throws {
    var configuration = RPCServerConfiguration()
    configuration.limits.idleTimeout = .milliseconds(200)
    let server = try mesh.startServer(
      service: "knowledge", offering: [EchoService()], configuration: configuration)
    defer { Task { await server.shutdown(grace: .zero) } }
    let channel = try mesh.channel(from: "gateway", to: "knowledge", ports: [server.port])

    _ = try await echo(channel)
    #expect(server.acceptedConnectionCount == 1)
    try await waitUntil { server.connectionCount == 0 }
    _ = try await echo(channel)
    #expect(server.acceptedConnectionCount == 2)
    channel.close()
  }

  @Test("a peer that never completes the TLS handshake is cut off at the handshake timeout")
  func handshakeTimeout() async throws {
    var configuration = RPCServerConfiguration()
    configuration.limits.handshakeTimeout = .milliseconds(300)
    let server = try mesh.startServer(
      service: "knowledge", offering: [EchoService()], configuration: configuration)
    defer { Task { await server.shutdown(grace: .zero) } }

    let silent = try RawPeer(port: server.port)
    try await waitUntil { server.connectionCount == 1 }
    let start = ContinuousClock.now
    let (_, closed) = silent.readUntilClosed(limit: 5)
    #expect(closed)
    #expect(ContinuousClock.now - start < .seconds(2))
    try await waitUntil { server.connectionCount == 0 }
  }

  @Test("a client pinging an idle connection too often gets a GOAWAY and is closed")
  func pingFlood() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    defer { Task { await server.shutdown(grace: .zero) } }

    let peer = try RawPeer.meshClient(mesh, port: server.port)
    for opaque in 1...10 {
      var envelope = Kp_Wire_V1_Envelope()
      var ping = Kp_Wire_V1_Ping()
      ping.opaque = UInt64(opaque)
      envelope.kind = .ping(ping)
      peer.send(envelope)
    }
    let (envelopes, closed) = peer.readUntilClosed()
    #expect(closed)
    let pongs = envelopes.filter {
      if case .pong = $0.kind { return true }
      return false
    }
    #expect(pongs.count == 3, "pongs before the GOAWAY: \(pongs.count)")
    #expect(
      envelopes.contains {
        if case .goaway(let goAway) = $0.kind { return goAway.reason.contains("too many pings") }
        return false
      })
  }

  @Test("a peer that stops answering keepalive pings is disconnected")
  func keepaliveTimeout() async throws {
    var configuration = RPCServerConfiguration()
    configuration.keepalive.interval = .milliseconds(200)
    configuration.keepalive.timeout = .milliseconds(200)
    let server = try mesh.startServer(
      service: "knowledge", offering: [EchoService()], configuration: configuration)
    defer { Task { await server.shutdown(grace: .zero) } }

    let peer = try RawPeer.meshClient(mesh, port: server.port)
    let start = ContinuousClock.now
    let (envelopes, closed) = peer.readUntilClosed()
    #expect(closed)
    #expect(
      envelopes.contains {
        if case .ping = $0.kind { return true }
        return false
      })
    #expect(ContinuousClock.now - start < .seconds(2))
    try await waitUntil { server.connectionCount == 0 }
  }

  @Test("dialling a port that accepts TCP but never speaks TLS fails at the connect timeout")
  func connectTimeout() async throws {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(listener) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(listener, $0, length) == 0 && listen(listener, 8) == 0
          && getsockname(listener, $0, &length) == 0
      }
    }
    let port = Int(UInt16(bigEndian: address.sin_port))

    var configuration = oneAttempt
    configuration.connectTimeout = .milliseconds(300)
    let channel = try mesh.channel(
      from: "gateway", to: "knowledge", ports: [port], configuration: configuration)
    let start = ContinuousClock.now
    do {
      _ = try await echo(channel, timeout: .seconds(5))
      Issue.record("the call succeeded against a silent server")
    } catch {
      #expect(error.code == .unavailable)
      #expect(error.message.contains("timed out"))
    }
    #expect(ContinuousClock.now - start < .seconds(3))
    channel.close()
  }

  @Test("a client keeps to the frame size and window its server announced")
  func peerSettingsRespected() async throws {
    var configuration = RPCServerConfiguration()
    configuration.limits.maximumFrameSize = 4096
    configuration.limits.initialCallWindow = 2048
    let server = try mesh.startServer(
      service: "knowledge", offering: [EchoService()], configuration: configuration)
    defer { Task { await server.shutdown(grace: .zero) } }
    let channel = try mesh.channel(
      from: "gateway", to: "knowledge", ports: [server.port], configuration: oneAttempt)

    _ = try await echo(channel)
    var large = Kp_Testing_V1_EchoRequest()
    large.payload = [UInt8](repeating: 7, count: 8192)
    do {
      _ = try await channel.unary(Kp_Testing_V1_Echo.echo, large)
      Issue.record("an oversize request was sent")
    } catch {
      #expect(error.code == .resourceExhausted)
      #expect(error.message.contains("accepts in one frame"))
    }

    // A request of exactly the largest message the server accepts fits no frame together with
    // the start's method and metadata: it goes in frames of its own, and the server, which
    // closes the connection on a frame above its limit, answers it.
    var largest = Kp_Testing_V1_EchoRequest()
    largest.payload = [UInt8](repeating: 3, count: 4061)
    #expect(largest.serializedBytes().count == 4096 - 32)
    #expect(try await channel.unary(Kp_Testing_V1_Echo.echo, largest).payload == largest.payload)

    // 40 messages of 1 KiB against a 2 KiB window: the client waits for credit instead of
    // overrunning the window (which the server would treat as a protocol violation).
    let joined = try await channel.clientStreaming(Kp_Testing_V1_Echo.clientStream) { writer in
      var part = Kp_Testing_V1_EchoRequest()
      part.payload = [UInt8](repeating: 1, count: 1024)
      for _ in 0..<40 { try await writer.send(part) }
    }
    #expect(joined.payload.count == 40 * 1024)
    #expect(server.acceptedConnectionCount == 1)
    channel.close()
  }
}
