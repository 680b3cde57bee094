import Testing

@testable import KPHTTP

/// The pure parser: bytes in, requests and refusals out, no sockets.
@Suite("HTTP request parser")
struct HTTPRequestParserTests {
  /// What feeding a byte stream produced.
  private struct Fed {
    var messages: [HTTPRequestParser.Message] = []
    var heads = 0
    var failure: HTTPError?
  }

  /// Feeds `text` in pieces of `step` bytes, as a connection would, until it is consumed
  /// or refused.
  private func feed(
    _ bytes: [UInt8], step: Int, limits: HTTPServerLimits = HTTPServerLimits()
  ) -> Fed {
    let parser = HTTPRequestParser(limits: limits)
    var fed = Fed()
    var start = 0
    var end = 0
    var rounds = 0
    while start < bytes.count && rounds < 100_000 {
      rounds += 1
      if end == start { end = min(bytes.count, start + step) }
      let (consumed, outcome) = bytes[start..<end].withUnsafeBytes { parser.parse($0) }
      start += consumed
      switch outcome {
      case .needMore: end = start
      case .head: fed.heads += 1
      case .message(let message): fed.messages.append(message)
      case .failure(let error):
        fed.failure = error
        return fed
      }
    }
    return fed
  }

  private func feed(_ text: String, step: Int = .max, limits: HTTPServerLimits = .init()) -> Fed {
    feed(Array(text.utf8), step: step, limits: limits)
  }

  @Test(
    "pipelined requests come out one by one, whole, however the bytes are split",
    arguments: [1, 2, 7, 64, Int.max])
  func pipelined(step: Int) {
    let text =
      "GET /a?x=1 HTTP/1.1\r\nHost: h\r\nX-Multi: one\r\nx-multi: two\r\n\r\n"
      + "POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
      + "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
      + "DELETE /d HTTP/1.0\r\n\r\n"
    let fed = feed(text, step: step)
    #expect(fed.failure == nil)
    #expect(fed.heads == 4)
    #expect(fed.messages.map(\.head.method) == [.get, .post, .put, .delete])
    #expect(fed.messages.map(\.head.target) == ["/a?x=1", "/b", "/c", "/d"])
    #expect(fed.messages[0].head.headers.values(for: "X-MULTI") == ["one", "two"])
    #expect(fed.messages[1].body == Array("hello".utf8))
    #expect(fed.messages[2].body == Array("abcde".utf8))
    #expect(fed.messages.map(\.keepAlive) == [true, true, true, false])
  }

  @Test("Expect: 100-continue is reported with the head")
  func expectContinue() {
    let parser = HTTPRequestParser(limits: HTTPServerLimits())
    let bytes = Array("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n".utf8)
    let (_, outcome) = bytes.withUnsafeBytes { parser.parse($0) }
    guard case .head(let head) = outcome else {
      Issue.record("expected the head, got \(outcome)")
      return
    }
    #expect(head.expectsContinue)
  }

  @Test("limits refuse with the right status, whatever the split", arguments: [1, 4096])
  func limits(step: Int) {
    var limits = HTTPServerLimits()
    limits.maximumHeaderSize = 512
    limits.maximumURLLength = 128
    limits.maximumBodySize = 100

    let cases: [(String, Int)] = [
      ("GET /" + String(repeating: "u", count: 200) + " HTTP/1.1\r\n\r\n", 414),
      ("GET / HTTP/1.1\r\nX: " + String(repeating: "h", count: 600) + "\r\n\r\n", 431),
      ("GET / HTTP/1.1\r\n" + String(repeating: "\r\n", count: 1) + "", 0),
      ("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413),
      (
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
          + String(repeating: "20\r\n" + String(repeating: "b", count: 32) + "\r\n", count: 4),
        413
      ),
      (
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: "
          + String(repeating: "t", count: 600) + "\r\n\r\n", 431
      ),
      ("BREW / HTTP/1.1\r\n\r\n", 400),
    ]
    for (text, status) in cases {
      let fed = feed(text, step: step, limits: limits)
      #expect(fed.failure?.status.code ?? 0 == status, "\(text.prefix(40))")
    }
  }

  @Test("after a refusal the parser stays refused")
  func staysRefused() {
    let parser = HTTPRequestParser(limits: HTTPServerLimits())
    let bad = Array("NOPE\r\n\r\n".utf8)
    let (_, first) = bad.withUnsafeBytes { parser.parse($0) }
    let good = Array("GET / HTTP/1.1\r\n\r\n".utf8)
    let (consumed, second) = good.withUnsafeBytes { parser.parse($0) }
    guard case .failure = first, case .failure = second else {
      Issue.record("expected refusals")
      return
    }
    #expect(consumed == 0)
  }
}
