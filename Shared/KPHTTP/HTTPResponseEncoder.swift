/// Serializes a response for the wire: status line, header fields, and the body framed by
/// `Content-Length`.
enum HTTPResponseEncoder {
  /// The bytes of a `100 Continue` interim response.
  static let continueBytes = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

  /// How the response relates to its request and connection.
  struct Framing {
    /// The request's method; `HEAD` responses carry no body.
    var requestMethod: HTTPMethod?
    /// The request's id, sent as `X-Request-Id` when the response has none.
    var requestID: String?
    /// Whether the connection closes after this response.
    var closes: Bool
    /// Whether the client is HTTP/1.0 and keeps the connection open (it needs to be told).
    var isKeepAliveHTTP10 = false
  }

  /// The response's bytes.
  static func encode(_ response: HTTPResponse, framing: Framing) -> [UInt8] {
    var head = "HTTP/1.1 \(response.status.code) \(clean(response.status.reasonPhrase))\r\n"
    for field in response.headers where !isFramingField(field.name) {
      let name = field.name.utf8.allSatisfy(isTokenByte) ? field.name : nil
      guard let name, !name.isEmpty else { continue }
      head += "\(name): \(clean(field.value))\r\n"
    }
    if !response.headers.contains("date") {
      head += "Date: \(HTTPDate.now())\r\n"
    }
    if let requestID = framing.requestID, !response.headers.contains("x-request-id") {
      head += "X-Request-Id: \(clean(requestID))\r\n"
    }
    let bodyAllowed = !response.status.forbidsBody
    if bodyAllowed {
      head += "Content-Length: \(response.body.count)\r\n"
    }
    if framing.closes {
      head += "Connection: close\r\n"
    } else if framing.isKeepAliveHTTP10 {
      head += "Connection: keep-alive\r\n"
    }
    head += "\r\n"

    var bytes = Array(head.utf8)
    if bodyAllowed && framing.requestMethod != .head {
      bytes.append(contentsOf: response.body)
    }
    return bytes
  }

  private static func isFramingField(_ name: String) -> Bool {
    HTTPHeaders.equal(name, "content-length") || HTTPHeaders.equal(name, "transfer-encoding")
      || HTTPHeaders.equal(name, "connection")
  }

  /// Replaces control characters, so a value can never end the header block early.
  private static func clean(_ value: String) -> String {
    guard value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return value }
    return String(
      String.UnicodeScalarView(
        value.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
  }

  /// Whether a byte may appear in a header name (an RFC 9110 token).
  private static func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"):
      return true
    default:
      return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
    }
  }
}
