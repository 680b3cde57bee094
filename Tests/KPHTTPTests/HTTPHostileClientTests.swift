import Foundation
import KPHTTP
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Clients that misbehave: the server answers what it can, closes, and keeps serving others.
@Suite("HTTPS server against hostile clients")
struct HTTPHostileClientTests {
  /// Expects a healthy client to be served.
  private func expectServing(_ server: HTTPServer) throws {
    let client = try connectClient(server)
    client.send(TestHTTPSClient.request("GET", "/echo"))
    #expect(try client.readResponse().status == 200)
  }

  @Test(
    "malformed HTTP gets the error body with 400 (505 for another version), then close",
    arguments: [
      ("GARBAGE\r\n\r\n", 400),
      ("GET / HTTP/9.9\r\n\r\n", 505),
      ("GET /\u{1} HTTP/1.1\r\nHost: x\r\n\r\n", 400),
      ("GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400),
      ("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
      ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
      ("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
    ])
  func malformed(_ request: String, status: Int) async throws {
    try await withHTTPServer { server in
      let client = try connectClient(server)
      client.send(request)
      let response = try client.readResponse()
      #expect(response.status == status)
      let code = status == 400 ? "BAD_REQUEST" : "HTTP_VERSION_NOT_SUPPORTED"
      #expect(response.text.contains(#""code":"\#(code)""#))
      #expect(response.headers["connection"] == "close")
      #expect(client.waitForClose())
      try expectServing(server)
    }
  }

  @Test("random bytes over TLS never crash the server")
  func randomBytes() async throws {
    try await withHTTPServer { server in
      var generator = SystemRandomNumberGenerator()
      for _ in 0..<20 {
        let client = try connectClient(server, timeout: .seconds(3))
        let count = Int.random(in: 1...4096, using: &generator)
        client.send((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
        _ = client.waitForClose()
      }
      try expectServing(server)
    }
  }

  @Test("plain HTTP without TLS is closed, and the server keeps serving")
  func plainHTTP() async throws {
    try await withHTTPServer { server in
      let plain = try TestHTTPSClient(port: server.port, timeout: .seconds(3))
      plain.send(TestHTTPSClient.request("GET", "/echo"))
      #expect(plain.waitForClose())
      try expectServing(server)
    }
  }

  @Test("a client sending one byte every 200 ms is cut off by a 1 s request timeout")
  func slowloris() async throws {
    var limits = HTTPServerLimits()
    limits.requestTimeout = .seconds(1)
    try await withHTTPServer(limits: limits) { server in
      let client = try connectClient(server)
      let request = Array(TestHTTPSClient.request("GET", "/echo", headers: [("X-Pad", "1")]).utf8)
      let started = ContinuousClock.now
      var sent = 0
      while sent < request.count && ContinuousClock.now - started < .seconds(5) {
        guard client.send([request[sent]]) else { break }
        sent += 1
        if client.isReadable(withinMilliseconds: 200) { break }
      }
      let cutOffAfter = ContinuousClock.now - started
      #expect(sent < request.count)
      #expect(cutOffAfter >= .milliseconds(800) && cutOffAfter < .seconds(3))
      let response = try client.readResponse()
      #expect(response.status == 408)
      #expect(client.waitForClose())
      try expectServing(server)
    }
  }

  @Test("a client that pipelines without reading is bounded, and served when it reads")
  func pipelinedFlood() async throws {
    try await withHTTPServer { server in
      let client = try connectClient(server, timeout: .seconds(10))
      let pad = String(repeating: "p", count: 200)
      let request = TestHTTPSClient.request("GET", "/echo", headers: [("X-Pad", pad)])
      // About 120 KB: more than the server holds unparsed, so it pauses reading meanwhile.
      let burst = String(repeating: request, count: 500)
      #expect(client.send(burst))
      for _ in 0..<500 {
        #expect(try client.readResponse().status == 200)
      }
    }
  }

  @Test("a client that disconnects mid-request cancels nothing else")
  func disconnectMidRequest() async throws {
    try await withHTTPServer { server in
      for _ in 0..<10 {
        let client = try connectClient(server)
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
      }
      let slow = try connectClient(server)
      slow.send(TestHTTPSClient.request("GET", "/sleep/50"))
      _ = consume slow
      try expectServing(server)
      var closed = false
      for _ in 0..<200 where !closed {
        closed = server.connectionCount == 0
        if !closed { try await Task.sleep(for: .milliseconds(10)) }
      }
      #expect(closed)
    }
  }
}
