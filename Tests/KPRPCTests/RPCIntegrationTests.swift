import Foundation
import KPProtoRuntime
import KPProtocol
import KPRPC
import KPTLS
import KPTesting
import Synchronization
import Testing

/// End-to-end behaviour over real sockets and mutual TLS on loopback.
@Suite("RPC over mutual TLS", .serialized)
struct RPCIntegrationTests {
  let mesh: TestMesh

  init() throws {
    TLSRuntime.ignoreSIGPIPE()
    mesh = try TestMesh()
  }

  private func echoRequest(
    _ text: String = "hello", sleepMs: UInt32 = 0, count: UInt32 = 0
  ) -> Kp_Testing_V1_EchoRequest {
    var request = Kp_Testing_V1_EchoRequest()
    request.payload = Array(text.utf8)
    request.sleepMs = sleepMs
    request.count = count
    return request
  }

  private func expectError(
    _ code: RPCError.Code, _ body: () async throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
  ) async {
    do {
      try await body()
      Issue.record("expected \(code), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as RPCError {
      #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
      Issue.record("expected RPCError \(code), got \(error)", sourceLocation: sourceLocation)
    }
  }

  @Test("a unary call echoes its payload and sees the caller's metadata")
  func unaryEcho() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    defer { Task { await server.shutdown(grace: .zero) } }
    let channel = try mesh.channel(from: "gateway", to: "knowledge", ports: [server.port])

    var options = CallOptions()
    options.metadata.add("kp-tenant", "t_123")
    let response = try await channel.unary(
      Kp_Testing_V1_Echo.echo, echoRequest("Grüße 東京"), options: options)
    #expect(String(decoding: response.payload, as: UTF8.self) == "Grüße 東京")
    #expect(response.metadata["kp-tenant"] == "t_123")
    #expect(response.metadata["kp-trace-id"]?.count == 32)
    channel.close()
  }

  @Test("trailers a handler sends with a failed status reach the caller's error")
  func errorTrailers() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [TrailerService()])
    defer { Task { await server.shutdown(grace: .zero) } }
    let channel = try mesh.channel(from: "gateway", to: "knowledge", ports: [server.port])

    do {
      _ = try await channel.unary(Kp_Testing_V1_Echo.echo, echoRequest())
      Issue.record("expected RESOURCE_EXHAUSTED")
    } catch {
      #expect(error.code == .resourceExhausted)
      #expect(error.message == "slow down")
      #expect(error.trailers[MetadataKey.retryAfterSeconds] == "7")
      #expect(error.trailers.entries.count == 2)
    }

    // A stream hands over every response the server sent, then the status's error with its
    // trailers, however late the caller reads.
    let stream = try channel.serverStreaming(Kp_Testing_V1_Echo.serverStream, echoRequest())
    try await Task.sleep(for: .milliseconds(100))
    var indexes: [UInt32] = []
    do {
      for try await response in stream { indexes.append(response.index) }
      Issue.record("expected ABORTED")
    } catch let error as RPCError {
      #expect(error.code == .aborted)
      #expect(error.trailers["kp-stopped-after"] == "3")
    }
    #expect(indexes == [0, 1, 2])

    // A failure without trailers arrives without any.
    var failing = echoRequest()
    failing.failCode = .notFound
    let plain = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    defer { Task { await plain.shutdown(grace: .zero) } }
    let other = try mesh.channel(from: "gateway", to: "knowledge", ports: [plain.port])
    do {
      _ = try await other.unary(Kp_Testing_V1_Echo.echo, failing)
      Issue.record("expected NOT_FOUND")
    } catch {
      #expect(error.code == .notFound)
      #expect(error.trailers.entries.isEmpty)
    }
    channel.close()
    other.close()
  }

  @Test("server, client and bidirectional streams carry every message in order")
  func streams() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    defer { Task { await server.shutdown(grace: .zero) } }
    let channel = try mesh.channel(from: "gateway", to: "knowledge", ports: [server.port])

    var indexes: [UInt32] = []
    for try await response in try channel.serverStreaming(
      Kp_Testing_V1_Echo.serverStream, echoRequest("s", count: 50))
    {
      indexes.append(response.index)
    }
    #expect(indexes == Array(0..<50))

    let joined = try await channel.clientStreaming(Kp_Testing_V1_Echo.clientStream) { writer in
      for part in ["a", "b", "c"] { try await writer.send(echoRequest(part)) }
    }
    #expect(String(decoding: joined.payload, as: UTF8.self) == "abc")
    #expect(joined.index == 3)

    var echoed: [String] = []
    try await channel.bidirectional(Kp_Testing_V1_Echo.bidiStream) { writer, responses in
      for part in ["x", "y", "z"] {
        try await writer.send(echoRequest(part, count: 1))
        if let response = try await responses.next() {
          echoed.append(String(decoding: response.payload, as: UTF8.self))
        }
      }
    }
    #expect(echoed == ["x", "y", "z"])
    channel.close()
  }

  @Test("an unknown method gives UNIMPLEMENTED and a handler's error reaches the caller")
  func statuses() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    defer { Task { await server.shutdown(grace: .zero) } }
    let channel = try mesh.channel(from: "gateway", to: "knowledge", ports: [server.port])

    let missing = ProtoMethod<Kp_Testing_V1_EchoRequest, Kp_Testing_V1_EchoResponse>(
      path: "/kp.testing.v1.Echo/Missing", clientStreaming: false, serverStreaming: false,
      idempotent: false)
    await expectError(.unimplemented) { _ = try await channel.unary(missing, echoRequest()) }

    var failing = echoRequest()
    failing.failCode = .notFound
    failing.failMessage = "no such document"
    do {
      _ = try await channel.unary(Kp_Testing_V1_Echo.echo, failing)
      Issue.record("expected NOT_FOUND")
    } catch {
      #expect(error.code == .notFound)
      #expect(error.message == "no such document")
    }

    var health = Kp_Health_V1_HealthCheckRequest()
    health.service = ""
    let status = try await channel.unary(Kp_Health_V1_Health.check, health)
    #expect(status.status == .serving)
    #expect(
      server.metrics.count(method: "/kp.testing.v1.Echo/Echo", code: .notFound) == 1)
    #expect(server.metrics.prometheusText().contains("kp_rpc_server_calls_total{method="))
    channel.close()
  }

  @Test("a method open to one identity refuses another with PERMISSION_DENIED")
  func perMethodAuthorisation() async throws {
    let service = EchoService(callers: .only([TestMesh.identity("gateway")]))
    let server = try mesh.startServer(service: "knowledge", offering: [service])
    defer { Task { await server.shutdown(grace: .zero) } }

    let allowed = try mesh.channel(from: "gateway", to: "knowledge", ports: [server.port])
    _ = try await allowed.unary(Kp_Testing_V1_Echo.echo, echoRequest())

    let refused = try mesh.channel(from: "ingest", to: "knowledge", ports: [server.port])
    await expectError(.permissionDenied) {
      _ = try await refused.unary(Kp_Testing_V1_Echo.echo, echoRequest())
    }
    allowed.close()
    refused.close()
  }

  @Test("the deadline stops work: DEADLINE_EXCEEDED, and the handler is cancelled")
  func deadline() async throws {
    let probe = EchoProbe()
    let server = try mesh.startServer(
      service: "knowledge", offering: [EchoService(probe: probe)])
    defer { Task { await server.shutdown(grace: .zero) } }
    let channel = try mesh.channel(from: "gateway", to: "knowledge", ports: [server.port])

    let start = ContinuousClock.now
    await expectError(.deadlineExceeded) {
      _ = try await channel.unary(
        Kp_Testing_V1_Echo.echo, echoRequest(sleepMs: 2_000),
        options: CallOptions(timeout: .milliseconds(200)))
    }
    // Well before the handler's 2 s sleep would have ended.
    #expect(ContinuousClock.now - start < .seconds(1))
    try await waitUntil { probe.cancelledCount == 1 }
    channel.close()
  }

  @Test("a deadline crosses three hops and the whole chain stops in time")
  func deadlinePropagation() async throws {
    let probe = EchoProbe()
    let last = try mesh.startServer(service: "ingest", offering: [EchoService(probe: probe)])
    let toLast = try mesh.channel(from: "knowledge", to: "ingest", ports: [last.port])
    let middle = try mesh.startServer(
      service: "knowledge", offering: [RelayService(next: toLast, label: "middle")])
    let toMiddle = try mesh.channel(from: "auth", to: "knowledge", ports: [middle.port])
    let first = try mesh.startServer(
      service: "auth", offering: [RelayService(next: toMiddle, label: "first")])
    let toFirst = try mesh.channel(from: "gateway", to: "auth", ports: [first.port])
    defer {
      Task {
        await first.shutdown(grace: .zero)
        await middle.shutdown(grace: .zero)
        await last.shutdown(grace: .zero)
      }
    }

    let start = ContinuousClock.now
    await expectError(.deadlineExceeded) {
      _ = try await toFirst.unary(
        Kp_Testing_V1_Echo.echo, echoRequest(sleepMs: 2_000),
        options: CallOptions(timeout: .milliseconds(200)))
    }
    let elapsed = ContinuousClock.now - start
    #expect(elapsed < .milliseconds(450), "the chain took \(elapsed)")
    try await waitUntil { probe.cancelledCount == 1 }
    #expect(probe.startedCount == 1)
  }

  @Test("cancelling the calling task cancels the server's handler")
  func cancellation() async throws {
    let probe = EchoProbe()
    let server = try mesh.startServer(
      service: "knowledge", offering: [EchoService(probe: probe)])
    defer { Task { await server.shutdown(grace: .zero) } }
    let channel = try mesh.channel(from: "gateway", to: "knowledge", ports: [server.port])

    let request = echoRequest(sleepMs: 5_000)
    let task = Task {
      try await channel.unary(Kp_Testing_V1_Echo.echo, request)
    }
    try await waitUntil { probe.startedCount == 1 }
    task.cancel()
    let result = await task.result
    guard case .failure(let error as RPCError) = result else {
      Issue.record("expected CANCELLED, got \(result)")
      return
    }
    #expect(error.code == .cancelled)
    try await waitUntil { probe.cancelledCount == 1 }
    channel.close()
  }

  @Test("1,000 concurrent calls share one connection")
  func thousandConcurrentCalls() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    defer { Task { await server.shutdown(grace: .zero) } }
    let channel = try mesh.channel(from: "gateway", to: "knowledge", ports: [server.port])

    let payloads = try await withThrowingTaskGroup(of: String.self) { group in
      for index in 0..<1_000 {
        group.addTask {
          let response = try await channel.unary(
            Kp_Testing_V1_Echo.echo, echoRequest("call-\(index)", sleepMs: 20))
          return String(decoding: response.payload, as: UTF8.self)
        }
      }
      var all: Set<String> = []
      for try await payload in group { all.insert(payload) }
      return all
    }
    #expect(payloads.count == 1_000)
    #expect(payloads.contains("call-999"))
    #expect(server.connectionCount == 1)
    channel.close()
  }

  @Test("a server vanishing mid-call fails the call with UNAVAILABLE")
  func peerVanishes() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    let channel = try mesh.channel(from: "gateway", to: "knowledge", ports: [server.port])
    let start = ContinuousClock.now
    let call = Task {
      try await channel.unary(Kp_Testing_V1_Echo.echo, echoRequest(sleepMs: 5_000))
    }
    try await Task.sleep(for: .milliseconds(200))
    await server.shutdown(grace: .zero)
    let result = await call.result
    guard case .failure(let error as RPCError) = result else {
      Issue.record("expected UNAVAILABLE, got \(result)")
      return
    }
    #expect(error.code == .unavailable)
    #expect(ContinuousClock.now - start < .seconds(3))
  }
}

/// Relays Echo calls to the next hop, passing on the deadline it was given.
/// Fails every call with trailers: unary at once, server streams after three responses.
struct TrailerService: RPCService {
  func register(into table: inout MethodTable) {
    table.unary(Kp_Testing_V1_Echo.echo, callers: .anyAuthenticated) { _, _ in
      var trailers = Metadata()
      trailers.add(MetadataKey.retryAfterSeconds, "7")
      trailers.add("kp-detail-bin", binary: [0, 1, 2])
      throw RPCError(.resourceExhausted, "slow down", trailers: trailers)
    }
    table.serverStreaming(Kp_Testing_V1_Echo.serverStream, callers: .anyAuthenticated) {
      _, writer, _ in
      for index in 0..<3 {
        var response = Kp_Testing_V1_EchoResponse()
        response.index = UInt32(index)
        try await writer.send(response)
      }
      throw RPCError(.aborted, "stopped", trailers: Metadata([("kp-stopped-after", "3")]))
    }
  }
}

struct RelayService: RPCService {
  let next: RPCChannel
  let label: String

  func register(into table: inout MethodTable) {
    let next = next
    table.unary(Kp_Testing_V1_Echo.echo, callers: .anyAuthenticated) { request, _ in
      try await next.unary(Kp_Testing_V1_Echo.echo, request)
    }
  }
}

/// Polls a condition for up to five seconds.
func waitUntil(
  _ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation
) async throws {
  let deadline = ContinuousClock.now + .seconds(5)
  while !condition() {
    guard ContinuousClock.now < deadline else {
      Issue.record("condition not met within 5 s", sourceLocation: sourceLocation)
      return
    }
    try await Task.sleep(for: .milliseconds(10))
  }
}
