import Foundation
import KPHTTP
import KPRPC
import Synchronization
import Testing

/// Graceful shutdown: stop accepting, finish what is in flight, close what is idle.
@Suite("HTTPS server shutdown")
struct HTTPShutdownTests {
  @Test("shutdown lets an in-flight slow request finish and closes idle connections")
  func finishesInFlight() async throws {
    // The slow handler holds its request until shutdown has begun, whenever the test's task
    // gets to run, then takes a while longer.
    let shutdownBegun = ManagedFlag()
    let handler: HTTPServer.Handler = { request in
      guard request.path == "/slow" else { return await testRoutes(request) }
      for _ in 0..<1000 where !shutdownBegun.isSet {
        try? await Task.sleep(for: .milliseconds(10))
      }
      try? await Task.sleep(for: .milliseconds(300))
      return HTTPResponse(text: "finished")
    }
    let server = HTTPServer(tls: HTTPTestCertificates.shared.serverContext, handler: handler)
    try server.start()
    let port = server.port

    let idle = try connectClient(server)
    idle.send(TestHTTPSClient.request("GET", "/echo"))
    #expect(try idle.readResponse().status == 200)

    let busy = try connectClient(server)
    busy.send(TestHTTPSClient.request("GET", "/slow"))
    try await Task.sleep(for: .milliseconds(50))

    let shutdown = Task {
      shutdownBegun.set()
      await server.shutdown(grace: .seconds(5))
    }
    let response = try await onThread { try busy.readResponse() }
    #expect(response.text == "finished")
    #expect(response.headers["connection"] == "close")
    #expect(try await onThread { busy.waitForClose() })
    #expect(try await onThread { idle.waitForClose() })
    await shutdown.value
    #expect(server.connectionCount == 0)
    #expect(throws: (any Error).self) {
      _ = try TestHTTPSClient(port: port, tls: HTTPTestCertificates.shared.clientContext)
    }
  }

  @Test("a request still running when the grace period ends is cancelled and closed")
  func graceExpires() async throws {
    let cancelled = ManagedFlag()
    let handler: HTTPServer.Handler = { _ in
      do {
        try await Task.sleep(for: .seconds(30))
      } catch {
        cancelled.set()
      }
      return HTTPResponse(text: "late")
    }
    let server = HTTPServer(tls: HTTPTestCertificates.shared.serverContext, handler: handler)
    try server.start()
    let client = try connectClient(server)
    client.send(TestHTTPSClient.request("GET", "/forever"))
    try await Task.sleep(for: .milliseconds(100))

    let started = ContinuousClock.now
    await server.shutdown(grace: .milliseconds(200))
    #expect(ContinuousClock.now - started < .seconds(3))
    #expect(try await onThread { client.waitForClose() })
    var observed = false
    for _ in 0..<100 where !observed {
      observed = cancelled.isSet
      if !observed { try await Task.sleep(for: .milliseconds(10)) }
    }
    #expect(observed)
  }
}

/// A flag set from a handler and read by the test.
final class ManagedFlag: Sendable {
  private let value = Mutex(false)

  func set() { value.withLock { $0 = true } }
  var isSet: Bool { value.withLock { $0 } }
}
