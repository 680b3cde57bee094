import KPProtocol
import KPRPC
import KPTLS
import KPTesting
import Synchronization
import Testing

/// Adds a bearer credential to every call.
private struct CredentialInterceptor: ClientInterceptor {
  let token: String
  let finished: Recorder

  func willStart(method: String, metadata: inout Metadata) throws(RPCError) {
    metadata.set(MetadataKey.authorization, "Bearer \(token)")
  }

  func didFinish(method: String, error: RPCError?, duration: Duration) {
    finished.add("\(method) \(error?.code.name ?? "OK")")
  }
}

/// Refuses calls without the expected bearer credential, and records what it let through.
private struct BearerCheck: ServerInterceptor {
  let expected: String
  let seen: Recorder

  func intercept(
    _ context: ServerContext,
    next: @Sendable (ServerContext) async throws -> Void
  ) async throws {
    guard
      context.method.hasPrefix("/kp.health.v1.")
        || context.metadata[MetadataKey.authorization] == "Bearer \(expected)"
    else {
      throw RPCError(.unauthenticated, "a valid bearer token is required")
    }
    seen.add(context.method)
    try await next(context)
  }
}

private final class Recorder: Sendable {
  private let entries = Mutex<[String]>([])
  func add(_ entry: String) { entries.withLock { $0.append(entry) } }
  var all: [String] { entries.withLock { $0 } }
}

@Suite("Interceptors")
struct InterceptorTests {
  @Test("client interceptors add metadata; server interceptors see it and can refuse")
  func bothSides() async throws {
    TLSRuntime.ignoreSIGPIPE()
    let mesh = try TestMesh()
    let seen = Recorder()
    let server = try mesh.startServer(
      service: "knowledge", offering: [EchoService()],
      interceptors: [BearerCheck(expected: "s3cret", seen: seen)])
    defer { Task { await server.shutdown(grace: .zero) } }

    let finished = Recorder()
    let target = RPCTarget(
      endpoints: [SocketAddress(host: "127.0.0.1", port: server.port)],
      expectedIdentity: TestMesh.identity("knowledge"))
    let good = RPCChannel(
      target: target, tls: try mesh.clientContext(service: "gateway"),
      interceptors: [CredentialInterceptor(token: "s3cret", finished: finished)])
    _ = try await good.unary(Kp_Testing_V1_Echo.echo, Kp_Testing_V1_EchoRequest())
    #expect(seen.all == ["/kp.testing.v1.Echo/Echo"])
    #expect(finished.all == ["/kp.testing.v1.Echo/Echo OK"])

    let bad = RPCChannel(
      target: target, tls: try mesh.clientContext(service: "gateway"),
      interceptors: [CredentialInterceptor(token: "wrong", finished: finished)])
    do {
      _ = try await bad.unary(Kp_Testing_V1_Echo.echo, Kp_Testing_V1_EchoRequest())
      Issue.record("expected UNAUTHENTICATED")
    } catch {
      #expect(error.code == .unauthenticated)
    }
    #expect(finished.all.last == "/kp.testing.v1.Echo/Echo UNAUTHENTICATED")
    #expect(seen.all.count == 1)
    #expect(
      server.metrics.count(method: "/kp.testing.v1.Echo/Echo", code: .unauthenticated) == 1)
    good.close()
    bad.close()
  }
}
