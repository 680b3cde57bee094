import Foundation
import KPHTTP
import Testing

/// Each limit of `HTTPServerLimits`, with the status it answers, over real TLS.
@Suite("HTTPS server limits")
struct HTTPLimitTests {
  /// The error code in a response's `{"error": {...}}` body.
  private func errorCode(_ response: TestResponse) -> String? {
    let object = try? JSONSerialization.jsonObject(with: Data(response.body))
    let detail = (object as? [String: Any])?["error"] as? [String: Any]
    return detail?["code"] as? String
  }

  /// Expects the error status and code, `Connection: close`, and the connection closing.
  private func expectRefusal(
    _ client: TestHTTPSClient, status: Int, code: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let response = try client.readResponse()
    #expect(response.status == status, sourceLocation: sourceLocation)
    #expect(errorCode(response) == code, sourceLocation: sourceLocation)
    #expect(response.headers["connection"] == "close", sourceLocation: sourceLocation)
    #expect(client.waitForClose(), sourceLocation: sourceLocation)
  }

  @Test("a header block over the limit gets 431")
  func headerBlock() async throws {
    var limits = HTTPServerLimits()
    limits.maximumHeaderSize = 4096
    try await withHTTPServer(limits: limits) { server in
      let client = try connectClient(server)
      let big = String(repeating: "v", count: 1000)
      let headers = (0..<8).map { ("X-Big-\($0)", big) }
      client.send(TestHTTPSClient.request("GET", "/echo", headers: headers))
      try expectRefusal(client, status: 431, code: "HEADERS_TOO_LARGE")

      // Just under the limit is served.
      let fits = try connectClient(server)
      fits.send(TestHTTPSClient.request("GET", "/echo", headers: Array(headers.prefix(3))))
      #expect(try fits.readResponse().status == 200)
    }
  }

  @Test("many small header lines count toward the limit too")
  func manyHeaderLines() async throws {
    var limits = HTTPServerLimits()
    limits.maximumHeaderSize = 2048
    try await withHTTPServer(limits: limits) { server in
      let client = try connectClient(server)
      let headers = (0..<400).map { ("A\($0)", "b") }
      client.send(TestHTTPSClient.request("GET", "/echo", headers: headers))
      try expectRefusal(client, status: 431, code: "HEADERS_TOO_LARGE")
    }
  }

  @Test("a URL over the limit gets 414")
  func urlLength() async throws {
    var limits = HTTPServerLimits()
    limits.maximumURLLength = 1024
    try await withHTTPServer(limits: limits) { server in
      let client = try connectClient(server)
      client.send(
        TestHTTPSClient.request("GET", "/echo?q=" + String(repeating: "a", count: 2000)))
      try expectRefusal(client, status: 414, code: "URI_TOO_LONG")
    }
  }

  @Test("a Content-Length over the limit gets 413 before the body is sent")
  func contentLength() async throws {
    var limits = HTTPServerLimits()
    limits.maximumBodySize = 1024
    try await withHTTPServer(limits: limits) { server in
      let client = try connectClient(server)
      client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n")
      try expectRefusal(client, status: 413, code: "PAYLOAD_TOO_LARGE")

      // A body at the limit is accepted.
      let fits = try connectClient(server)
      fits.send(
        TestHTTPSClient.request("POST", "/echo", body: String(repeating: "a", count: 1024)))
      #expect(try fits.readResponse().status == 200)
    }
  }

  @Test("a chunked body growing past the limit gets 413 while it is read")
  func chunkedBody() async throws {
    var limits = HTTPServerLimits()
    limits.maximumBodySize = 64 * 1024
    try await withHTTPServer(limits: limits) { server in
      let client = try connectClient(server)
      client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
      let chunk = "4000\r\n" + String(repeating: "z", count: 0x4000) + "\r\n"
      for _ in 0..<8 where client.send(chunk) {}
      try expectRefusal(client, status: 413, code: "PAYLOAD_TOO_LARGE")
    }
  }

  @Test("a request not complete within the request timeout gets 408 and is cut off")
  func requestTimeout() async throws {
    var limits = HTTPServerLimits()
    limits.requestTimeout = .milliseconds(500)
    try await withHTTPServer(limits: limits) { server in
      let client = try connectClient(server)
      client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
      let started = ContinuousClock.now
      try expectRefusal(client, status: 408, code: "REQUEST_TIMEOUT")
      #expect(ContinuousClock.now - started < .seconds(3))
    }
  }

  @Test("an idle keep-alive connection is closed after the idle timeout")
  func idleTimeout() async throws {
    var limits = HTTPServerLimits()
    limits.idleTimeout = .milliseconds(300)
    try await withHTTPServer(limits: limits) { server in
      let client = try connectClient(server)
      client.send(TestHTTPSClient.request("GET", "/echo"))
      #expect(try client.readResponse().status == 200)
      let started = ContinuousClock.now
      #expect(client.waitForClose())
      let waited = ContinuousClock.now - started
      #expect(waited >= .milliseconds(200) && waited < .seconds(3))
    }
  }

  @Test("a connection that never completes the TLS handshake is closed")
  func handshakeTimeout() async throws {
    var limits = HTTPServerLimits()
    limits.handshakeTimeout = .milliseconds(300)
    try await withHTTPServer(limits: limits) { server in
      let silent = try TestHTTPSClient(port: server.port)
      let started = ContinuousClock.now
      #expect(silent.waitForClose())
      #expect(ContinuousClock.now - started < .seconds(3))
    }
  }

  @Test("connections beyond the maximum are refused; freed slots are reused")
  func maximumConnections() async throws {
    var limits = HTTPServerLimits()
    limits.maximumConnections = 2
    try await withHTTPServer(limits: limits) { server in
      let first = try connectClient(server)
      let second = try connectClient(server)
      #expect(throws: (any Error).self) {
        let third = try connectClient(server, timeout: .seconds(2))
        third.send(TestHTTPSClient.request("GET", "/echo"))
        _ = try third.readResponse()
      }
      #expect(server.refusedConnectionCount >= 1)

      first.send(TestHTTPSClient.request("GET", "/echo"))
      #expect(try first.readResponse().status == 200)
      second.send(TestHTTPSClient.request("GET", "/echo"))
      #expect(try second.readResponse().status == 200)

      // Closing one frees its slot.
      _ = consume first
      var freed = false
      for _ in 0..<100 where !freed {
        freed = server.connectionCount < 2
        if !freed { try await Task.sleep(for: .milliseconds(10)) }
      }
      let fourth = try connectClient(server)
      fourth.send(TestHTTPSClient.request("GET", "/echo"))
      #expect(try fourth.readResponse().status == 200)
    }
  }

  @Test("a client that does not read its response is cut off after the write timeout")
  func writeTimeout() async throws {
    var limits = HTTPServerLimits()
    limits.writeTimeout = .milliseconds(300)
    let body = [UInt8](repeating: 0x62, count: 32 * 1024 * 1024)
    let handler: HTTPServer.Handler = { _ in HTTPResponse(body: body) }
    try await withHTTPServer(limits: limits, handler: handler) { server in
      let client = try connectClient(server)
      client.send(TestHTTPSClient.request("GET", "/big"))
      var closed = false
      for _ in 0..<300 where !closed {
        try await Task.sleep(for: .milliseconds(10))
        closed = server.connectionCount == 0
      }
      #expect(closed)
    }
  }

  @Test("the last request allowed on a connection is answered with Connection: close")
  func maximumRequestsPerConnection() async throws {
    var limits = HTTPServerLimits()
    limits.maximumRequestsPerConnection = 3
    try await withHTTPServer(limits: limits) { server in
      let client = try connectClient(server)
      for index in 1...3 {
        client.send(TestHTTPSClient.request("GET", "/echo"))
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.keepAlive == (index < 3))
      }
      #expect(client.waitForClose())
    }
  }
}
