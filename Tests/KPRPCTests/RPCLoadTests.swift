import KPProtocol
import KPRPC
import KPTLS
import KPTesting
import Synchronization
import Testing

/// Backpressure, draining under load and health watching, over real TLS on loopback.
@Suite("RPC under load", .serialized)
struct RPCLoadTests {
  let mesh: TestMesh

  init() throws {
    TLSRuntime.ignoreSIGPIPE()
    mesh = try TestMesh()
  }

  @Test("a slow reader holds the sender back by the flow-control window")
  func slowReader() async throws {
    let probe = EchoProbe()
    let server = try mesh.startServer(
      service: "knowledge", offering: [EchoService(probe: probe)])
    defer { Task { await server.shutdown(grace: .zero) } }
    let channel = try mesh.channel(from: "gateway", to: "knowledge", ports: [server.port])

    var request = Kp_Testing_V1_EchoRequest()
    request.payload = [UInt8](repeating: 0x61, count: 64 * 1024)
    request.count = 200
    let responses = try channel.serverStreaming(Kp_Testing_V1_Echo.serverStream, request)
    _ = try await responses.next()
    try await Task.sleep(for: .milliseconds(400))

    // 200 messages of 64 KiB is 12.5 MiB; the 1 MiB window lets about 17 through.
    let sentWhileStalled = probe.sentCount
    #expect(sentWhileStalled <= 20, "sent \(sentWhileStalled) while the reader stalled")

    var received = 1
    while try await responses.next() != nil { received += 1 }
    #expect(received == 200)
    #expect(probe.sentCount == 200)
    channel.close()
  }

  @Test("draining one of two servers under load fails no call")
  func drainUnderLoad() async throws {
    var serverConfiguration = RPCServerConfiguration()
    serverConfiguration.shutdownGracePeriod = .seconds(5)
    let first = try mesh.startServer(
      service: "knowledge", offering: [EchoService()], configuration: serverConfiguration)
    let second = try mesh.startServer(
      service: "knowledge", offering: [EchoService()], configuration: serverConfiguration)
    defer { Task { await second.shutdown(grace: .zero) } }
    let channel = try mesh.channel(
      from: "gateway", to: "knowledge", ports: [first.port, second.port])

    let tally = Tally()
    let total = 1_500
    try await withThrowingTaskGroup(of: Void.self) { group in
      for worker in 0..<32 {
        group.addTask {
          var request = Kp_Testing_V1_EchoRequest()
          request.sleepMs = 2
          for index in stride(from: worker, to: total, by: 32) {
            request.payload = Array("\(index)".utf8)
            do {
              let response = try await channel.unary(Kp_Testing_V1_Echo.echo, request)
              if response.payload != request.payload {
                tally.failures.withLock { $0.append("call \(index): wrong payload") }
              }
            } catch {
              tally.failures.withLock { $0.append("call \(index): \(error)") }
            }
            tally.completed.add(1, ordering: .relaxed)
          }
        }
      }
      group.addTask {
        while tally.completed.load(ordering: .relaxed) < total / 4 {
          try await Task.sleep(for: .milliseconds(2))
        }
        await first.shutdown()
      }
      try await group.waitForAll()
    }

    #expect(tally.completed.load(ordering: .relaxed) == total)
    #expect(tally.failures.withLock { $0 }.isEmpty, "\(tally.failures.withLock { $0.prefix(5) })")
    #expect(first.connectionCount == 0)
    channel.close()
  }

  @Test("health Watch reports the current status and then each change")
  func healthWatch() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    defer { Task { await server.shutdown(grace: .zero) } }
    let channel = try mesh.channel(from: "gateway", to: "knowledge", ports: [server.port])

    server.health.set("kp.testing.v1.Echo", .serving)
    var request = Kp_Health_V1_HealthCheckRequest()
    request.service = "kp.testing.v1.Echo"
    let updates = try channel.serverStreaming(Kp_Health_V1_Health.watch, request)
    #expect(try await updates.next()?.status == .serving)
    server.health.set("kp.testing.v1.Echo", .notServing)
    #expect(try await updates.next()?.status == .notServing)
    updates.cancel()

    request.service = "kp.nothing.v1.Missing"
    do {
      _ = try await channel.unary(Kp_Health_V1_Health.check, request)
      Issue.record("expected NOT_FOUND for an unknown service")
    } catch {
      #expect(error.code == .notFound)
    }
    channel.close()
  }
}

/// Shared counters for concurrent workers.
private final class Tally: Sendable {
  let completed = Atomic<Int>(0)
  let failures = Mutex<[String]>([])
}
