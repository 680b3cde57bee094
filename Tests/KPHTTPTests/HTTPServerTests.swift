import Foundation
import KPHTTP
import Synchronization
import Testing

/// Requests and responses over real TLS on loopback.
@Suite("HTTPS server")
struct HTTPServerTests {
  @Test("GET with a query, through curl, answers JSON describing the request")
  func getRoundTrip() async throws {
    try await withHTTPServer { server in
      let (status, output) = try curl([
        "-H", "X-Test: yes", "-H", "X-Request-Id: req-42",
        "https://127.0.0.1:\(server.port)/echo/a%2Fb?q=two+words&limit=10&x=%E2%9C%93",
      ])
      #expect(status == 0)
      let reply = try JSONDecoder().decode(EchoReply.self, from: Data(output.utf8))
      #expect(reply.method == "GET")
      #expect(reply.path == "/echo/a%2Fb")
      #expect(reply.segments == ["echo", "a/b"])
      #expect(reply.query == ["q": "two words", "limit": "10", "x": "\u{2713}"])
      #expect(reply.test == "yes")
      #expect(reply.requestID == "req-42")
      #expect(reply.remoteHost == "127.0.0.1")
    }
  }

  @Test("POST JSON through curl is decoded and answered with 201 JSON")
  func postJSON() async throws {
    try await withHTTPServer { server in
      let (status, output) = try curl([
        "-H", "Content-Type: application/json", "--data-binary", #"{"name":"ada","count":21}"#,
        "-w", "\n%{http_code}", "https://127.0.0.1:\(server.port)/json",
      ])
      #expect(status == 0)
      let lines = output.split(separator: "\n")
      #expect(lines.last == "201")
      let greeting = try JSONDecoder().decode(Greeting.self, from: Data(lines[0].utf8))
      #expect(greeting == Greeting(name: "ada", count: 42))
    }
  }

  @Test("malformed JSON and a wrong content type get the error shape with 400 and 415")
  func jsonErrors() async throws {
    try await withHTTPServer { server in
      let client = try connectClient(server)
      client.send(
        TestHTTPSClient.request(
          "POST", "/json", headers: [("Content-Type", "application/json")], body: "{nope"))
      let malformed = try client.readResponse()
      #expect(malformed.status == 400)
      let error = try #require(
        try JSONSerialization.jsonObject(with: Data(malformed.body)) as? [String: Any])
      let detail = try #require(error["error"] as? [String: String])
      #expect(detail["code"] == "INVALID_JSON")

      client.send(
        TestHTTPSClient.request(
          "POST", "/json", headers: [("Content-Type", "text/plain")], body: "{}"))
      let wrongType = try client.readResponse()
      #expect(wrongType.status == 415)
      #expect(wrongType.text.contains(#""code":"UNSUPPORTED_MEDIA_TYPE""#))

      client.send(
        TestHTTPSClient.request(
          "POST", "/json", headers: [("Content-Type", "application/json")],
          body: #"{"name":"ada"}"#))
      let missing = try client.readResponse()
      #expect(missing.status == 400)
      #expect(missing.text.contains("count"))
    }
  }

  @Test("several requests share one keep-alive connection")
  func keepAlive() async throws {
    try await withHTTPServer { server in
      let client = try connectClient(server)
      for index in 0..<5 {
        client.send(TestHTTPSClient.request("GET", "/echo?i=\(index)"))
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.keepAlive)
        #expect(response.headers["connection"] == nil)
        let reply = try JSONDecoder().decode(EchoReply.self, from: Data(response.body))
        #expect(reply.query["i"] == "\(index)")
      }
      #expect(server.connectionCount == 1)
    }
  }

  @Test("HTTP/1.0 closes unless it asks for keep-alive, and is told when it stays open")
  func http10() async throws {
    try await withHTTPServer { server in
      let keeping = try connectClient(server)
      for _ in 0..<2 {
        keeping.send("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let response = try keeping.readResponse()
        #expect(response.status == 200)
        #expect(response.headers["connection"] == "keep-alive")
      }

      let closing = try connectClient(server)
      closing.send("GET /echo HTTP/1.0\r\n\r\n")
      let response = try closing.readResponse()
      #expect(response.status == 200)
      #expect(response.headers["connection"] == "close")
      #expect(closing.waitForClose())
    }
  }

  @Test("pipelined requests are answered in order, even when the first is slowest")
  func pipelining() async throws {
    try await withHTTPServer { server in
      let client = try connectClient(server)
      let burst =
        TestHTTPSClient.request("GET", "/sleep/150")
        + TestHTTPSClient.request("POST", "/echo?n=2", body: "abc")
        + TestHTTPSClient.request("GET", "/sleep/10")
        + TestHTTPSClient.request("GET", "/missing")
      #expect(client.send(burst))

      let first = try client.readResponse()
      let second = try client.readResponse()
      let third = try client.readResponse()
      let fourth = try client.readResponse()
      #expect(first.text == "slept 150")
      let echo = try JSONDecoder().decode(EchoReply.self, from: Data(second.body))
      #expect(echo.query["n"] == "2" && echo.bodyBytes == 3 && echo.method == "POST")
      #expect(third.text == "slept 10")
      #expect(fourth.status == 404)
      #expect(fourth.text.contains(#""code":"NOT_FOUND""#))
    }
  }

  @Test("a chunked upload arrives whole, from our client and from curl")
  func chunkedUpload() async throws {
    try await withHTTPServer { server in
      let client = try connectClient(server)
      client.send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\n" + "1;ext=1\r\n \r\n" + "5\r\nworld\r\n" + "0\r\nX-Trailer: t\r\n\r\n")
      let response = try client.readResponse()
      let reply = try JSONDecoder().decode(EchoReply.self, from: Data(response.body))
      #expect(reply.bodyBytes == 11)

      // curl sends a 200 KB body chunked, with Expect: 100-continue.
      let path = NSTemporaryDirectory() + "kphttp-upload-\(UUID().uuidString)"
      try Data(repeating: 0x61, count: 200_000).write(to: URL(fileURLWithPath: path))
      defer { try? FileManager.default.removeItem(atPath: path) }
      let started = ContinuousClock.now
      let (status, output) = try curl([
        "-H", "Transfer-Encoding: chunked", "-H", "Expect: 100-continue",
        "--data-binary", "@\(path)", "https://127.0.0.1:\(server.port)/echo",
      ])
      #expect(status == 0)
      let curlReply = try JSONDecoder().decode(EchoReply.self, from: Data(output.utf8))
      #expect(curlReply.bodyBytes == 200_000)
      // With 100 Continue answered, curl does not wait out its one-second expect timeout.
      #expect(ContinuousClock.now - started < .milliseconds(900))
    }
  }

  @Test("HEAD gets the length but no body; 204 gets neither")
  func bodylessResponses() async throws {
    let handler: HTTPServer.Handler = { request in
      request.path == "/empty"
        ? HTTPResponse(status: .noContent) : HTTPResponse(text: "twelve bytes")
    }
    try await withHTTPServer(handler: handler) { server in
      let client = try connectClient(server)
      client.send(TestHTTPSClient.request("GET", "/empty"))
      let empty = try client.readResponse()
      #expect(empty.status == 204)
      #expect(empty.headers["content-length"] == nil)

      client.send(TestHTTPSClient.request("GET", "/text"))
      #expect(try client.readResponse().text == "twelve bytes")

      client.send(TestHTTPSClient.request("HEAD", "/text"))
      let head = try client.readResponse(toHEAD: true)
      #expect(head.status == 200 && head.headers["content-length"] == "12" && head.body.isEmpty)

      // No stray body bytes: the next response on the connection parses cleanly.
      client.send(TestHTTPSClient.request("GET", "/text"))
      #expect(try client.readResponse().text == "twelve bytes")
    }
  }

  @Test("200 concurrent connections each get their answer")
  func concurrentConnections() async throws {
    let inFlight = Atomic<Int>(0)
    let highest = Atomic<Int>(0)
    let handler: HTTPServer.Handler = { request in
      let now = inFlight.add(1, ordering: .relaxed).newValue
      _ = highest.max(now, ordering: .relaxed)
      try? await Task.sleep(for: .milliseconds(20))
      _ = inFlight.subtract(1, ordering: .relaxed)
      return HTTPResponse(text: request.queryValue("i") ?? "")
    }
    try await withHTTPServer(handler: handler) { server in
      var clients: [TestHTTPSClient] = []
      for _ in 0..<200 { clients.append(try connectClient(server, timeout: .seconds(10))) }
      #expect(server.connectionCount == 200)
      for (index, client) in clients.enumerated() {
        #expect(client.send(TestHTTPSClient.request("GET", "/any?i=\(index)")))
      }
      for (index, client) in clients.enumerated() {
        let response = try client.readResponse()
        #expect(response.status == 200 && response.text == "\(index)")
      }
      #expect(highest.load(ordering: .relaxed) > 1)
    }
  }
}
