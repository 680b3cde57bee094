import Foundation
import KPHTTP
import KPTesting
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The blocking HTTPS client the `kp` tool uses, against the real HTTPS server on loopback.
@Suite("HTTPS client")
struct HTTPSClientTests {
  private func client(_ port: Int, timeout: Duration = .seconds(5)) throws -> HTTPSClient {
    try HTTPSClient(
      host: "127.0.0.1", port: port,
      trustRoots: HTTPTestCertificates.shared.authority.certificatePath, timeout: timeout)
  }

  @Test("GET and POST JSON round-trip on one kept-alive connection")
  func roundTrips() async throws {
    try await withHTTPServer { server in
      let client = try client(server.port)
      let (echo, created) = try await onThread {
        let echo = try client.send(
          .get, "/echo/a?q=two%20words", headers: [("X-Test", "yes"), ("X-Request-Id", "r-1")])
        let created = try client.send(
          .post, "/json", headers: [("Content-Type", "application/json")],
          body: Array(#"{"name":"ada","count":4}"#.utf8))
        return (echo, created)
      }
      #expect(echo.status == 200)
      let reply = try echo.decode(EchoReply.self)
      #expect(reply.method == "GET")
      #expect(reply.query == ["q": "two words"])
      #expect(reply.test == "yes")
      #expect(reply.requestID == "r-1")
      #expect(echo.headers["x-request-id"] == "r-1")
      #expect(created.status == 201)
      #expect(try created.decode(Greeting.self) == Greeting(name: "ada", count: 8))
      #expect(server.connectionCount == 1)
      client.close()
    }
  }

  @Test("an error status is a response, not a thrown error")
  func errorStatus() async throws {
    try await withHTTPServer { server in
      let client = try client(server.port)
      let response = try await onThread { try client.send(.get, "/nowhere") }
      #expect(response.status == 404)
      let error = response.jsonObject?["error"] as? [String: Any]
      #expect(error?["code"] as? String == "NOT_FOUND")
    }
  }

  @Test("a connection the server closed while idle is replaced without the caller noticing")
  func reconnectsAfterIdleClose() async throws {
    var limits = HTTPServerLimits()
    limits.idleTimeout = .milliseconds(200)
    try await withHTTPServer(limits: limits) { server in
      let client = try client(server.port)
      let first = try await onThread { try client.send(.get, "/echo/1") }
      try await Task.sleep(for: .milliseconds(600))
      let second = try await onThread { try client.send(.get, "/echo/2") }
      #expect(first.status == 200)
      #expect(second.status == 200)
      #expect(try second.decode(EchoReply.self).segments == ["echo", "2"])
    }
  }

  @Test("a server slower than the timeout fails with TIMEOUT, not a hang")
  func timeout() async throws {
    try await withHTTPServer { server in
      let client = try client(server.port, timeout: .milliseconds(300))
      let started = ContinuousClock.now
      let error = await #expect(throws: HTTPClientError.self) {
        try await onThread { try client.send(.get, "/sleep/3000") }
      }
      #expect(error?.code == .timeout)
      #expect(ContinuousClock.now - started < .seconds(2))
    }
  }

  @Test("a closed port is UNREACHABLE and names the address")
  func unreachable() async throws {
    let port = try freePort()
    let client = try client(port)
    let error = await #expect(throws: HTTPClientError.self) {
      try await onThread { try client.send(.get, "/healthz") }
    }
    #expect(error?.code == .unreachable)
    #expect(error?.message.contains("127.0.0.1:\(port)") == true)
  }

  @Test("a server whose certificate is not from the trusted CA fails with TLS")
  func untrustedServer() async throws {
    try await withHTTPServer { server in
      let stranger = try TestCertificateAuthority.make(name: "stranger")
      let client = try HTTPSClient(
        host: "127.0.0.1", port: server.port, trustRoots: stranger.certificatePath,
        timeout: .seconds(5))
      let error = await #expect(throws: HTTPClientError.self) {
        try await onThread { try client.send(.get, "/echo") }
      }
      #expect(error?.code == .tls)
    }
  }

  @Test("a header with a line break is refused before anything is sent")
  func headerInjection() throws {
    let client = try client(1)
    let error = #expect(throws: HTTPClientError.self) {
      try client.send(.get, "/echo", headers: [("X-Test", "a\r\nX-Evil: 1")])
    }
    #expect(error?.code == .invalidRequest)
  }

  /// A loopback port nothing listens on: bound, read, and closed again.
  private func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
      }
    }
    guard bound else { throw HTTPClientError(.unreachable, "cannot bind a loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
  }
}
