import Foundation
import Testing

/// Requests a well-behaved client never sends: each gets the right status and an error body,
/// and none reaches an internal service.
@Suite("kp-gateway hostile clients", .serialized)
struct GatewayHostileClientTests {
  @Test("malformed JSON, invalid UTF-8, wrong content types, oversize headers and bodies")
  func badRequests() async throws {
    try await GatewayHarness.with { gateway in
      let admin = gateway.adminToken
      func post(_ body: [UInt8], type: String = "application/json") async throws -> CurlResponse {
        try await gateway.request(
          "POST", "/v1/tenants", token: admin, body: body, headers: [("Content-Type", type)])
      }

      let malformed = try await post(Array(#"{"slug": "a", "name": "#.utf8))
      #expect(malformed.status == 400)
      #expect(malformed.errorCode == "INVALID_ARGUMENT")
      #expect(malformed.errorMessage.contains("not valid JSON"))
      let invalidUTF8 = try await post(
        Array(#"{"slug": "a", "name": ""#.utf8) + [0xC3, 0x28, 0xFF]
          + Array(#"", "plan": "free"}"#.utf8))
      #expect(invalidUTF8.status == 400)
      #expect(invalidUTF8.errorMessage.contains("UTF-8"))
      let array = try await post(Array("[1, 2]".utf8))
      #expect(array.status == 422)
      let text = try await post(Array("slug=a".utf8), type: "text/plain")
      #expect(text.status == 415)
      #expect(text.errorCode == "UNSUPPORTED_MEDIA_TYPE")
      let form = try await post(
        Array("slug=a".utf8), type: "application/x-www-form-urlencoded")
      #expect(form.status == 415)
      let emptyBody = try await post([])
      #expect(emptyBody.status == 400)

      let large = try await post(Array(repeating: UInt8(ascii: "a"), count: 70_000))
      #expect(large.status == 413)
      #expect(large.errorCode == "PAYLOAD_TOO_LARGE")

      let bigHeader = try await gateway.request(
        "GET", "/healthz", headers: [("X-Padding", String(repeating: "p", count: 5000))])
      #expect(bigHeader.status == 431)
      // Refused by the HTTPS server before any route, yet each leaves its access-log line.
      for (refused, status) in [(large, "413"), (bigHeader, "431")] {
        let id = try #require(refused.headers["x-request-id"])
        let line = gateway.gateway.log.split(separator: "\n").first {
          $0.contains("\"request_id\":\"\(id)\"") && $0.contains("\"message\":\"request\"")
        }
        #expect(line?.contains("\"status\":\"\(status)\"") == true, "\(status) is logged")
      }

      let echoed = try await gateway.request(
        "GET", "/healthz", headers: [("X-Request-Id", "client-chosen-id-1")])
      #expect(echoed.headers["x-request-id"] == "client-chosen-id-1")
      let unsafeID = try await gateway.request(
        "GET", "/healthz", headers: [("X-Request-Id", "bad id with spaces")])
      #expect(unsafeID.headers["x-request-id"] != "bad id with spaces")
      #expect(!(unsafeID.headers["x-request-id"] ?? "").isEmpty)
    }
  }

  @Test("a client sending one byte a second is cut off with 408")
  func slowloris() async throws {
    try await GatewayHarness.with { gateway in
      let port = gateway.httpsPort
      let ca = gateway.caPath
      let started = ContinuousClock.now
      let (answer, closed) = try await onThread {
        let client = try RawTLSClient(port: port, caPath: ca)
        let request = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: yes\r\n\r\n".utf8)
        for byte in request {
          guard !client.isReadable, client.send([byte]) else { break }
          Thread.sleep(forTimeInterval: 1)
          if ContinuousClock.now - started > .seconds(8) { break }
        }
        return client.readUntilClosed()
      }
      let elapsed = ContinuousClock.now - started
      #expect(closed)
      #expect(String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 408"))
      #expect(elapsed < .seconds(6), "the request timeout is 3 s")
    }
  }
}

/// Runs blocking work on a thread of its own, so the cooperative pool keeps running.
func onThread<Value: Sendable>(
  _ body: @escaping @Sendable () throws -> Value
) async throws -> Value {
  try await withCheckedThrowingContinuation { continuation in
    Thread { continuation.resume(with: Result { try body() }) }.start()
  }
}
