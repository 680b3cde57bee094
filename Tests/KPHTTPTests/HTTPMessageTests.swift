import Foundation
import KPHTTP
import Testing

/// Headers, request targets, JSON helpers and the error shape, without sockets.
@Suite("HTTP messages")
struct HTTPMessageTests {
  @Test("header lookups ignore case; setting replaces every field of the name")
  func headers() {
    var headers: HTTPHeaders = ["Content-Type": "text/plain", "X-A": "1"]
    headers.add(name: "x-a", value: "2")
    #expect(headers["content-type"] == "text/plain")
    #expect(headers.values(for: "X-a") == ["1", "2"])
    headers["X-A"] = "3"
    #expect(headers.values(for: "x-a") == ["3"])
    headers["x-a"] = nil
    #expect(!headers.contains("X-A"))
    #expect(headers.count == 1)
  }

  @Test(
    "targets split into decoded segments and query items",
    arguments: [
      (
        "/v1/search?q=a+b&limit=5", "/v1/search", ["v1", "search"], [("q", "a b"), ("limit", "5")]
      ),
      ("/v1/tenants/ac%2Fme", "/v1/tenants/ac%2Fme", ["v1", "tenants", "ac/me"], []),
      ("/x?flag&empty=&e=%3D%26", "/x", ["x"], [("flag", ""), ("empty", ""), ("e", "=&")]),
      ("/bad%zz?v=%zz", "/bad%zz", ["bad%zz"], [("v", "%zz")]),
      ("http://host:8/abs?y=1", "/abs", ["abs"], [("y", "1")]),
    ])
  func targets(
    target: String, path: String, segments: [String], query: [(String, String)]
  ) {
    let request = HTTPRequest(method: .get, target: target)
    #expect(request.path == path)
    #expect(request.pathSegments == segments)
    #expect(request.queryItems == query.map { HTTPQueryItem(name: $0.0, value: $0.1) })
  }

  @Test("a safe X-Request-Id is kept; anything else is replaced by a new id")
  func requestIDs() {
    let kept = HTTPRequest(method: .get, target: "/", headers: ["X-Request-Id": "abc-123.x"])
    #expect(kept.requestID == "abc-123.x")
    let replaced = HTTPRequest(
      method: .get, target: "/", headers: ["X-Request-Id": "evil\u{1}\nline"])
    #expect(replaced.requestID != "evil\u{1}\nline")
    #expect(replaced.requestID.count == 32)
    let made = HTTPRequest(method: .get, target: "/")
    #expect(made.requestID.allSatisfy { $0.isHexDigit })
  }

  @Test("the error response has the gateway's shape and the error's status")
  func errorShape() throws {
    let response = HTTPResponse(error: .notFound("no tenant 'acme'"))
    #expect(response.status == .notFound)
    #expect(response.headers["content-type"] == "application/json; charset=utf-8")
    let text = String(decoding: response.body, as: UTF8.self)
    #expect(text == #"{"error":{"code":"NOT_FOUND","message":"no tenant 'acme'"}}"#)

    let custom = HTTPResponse(
      status: .tooManyRequests, code: HTTPError.Code("RATE_LIMITED"), message: "slow down")
    #expect(custom.status.code == 429)
    #expect(String(decoding: custom.body, as: UTF8.self).contains(#""RATE_LIMITED""#))
  }

  @Test("JSON responses from Codable values and from Foundation objects")
  func jsonResponses() throws {
    let encoded = try HTTPResponse.json(["b": 2, "a": 1], status: .created)
    #expect(encoded.status == .created)
    #expect(String(decoding: encoded.body, as: UTF8.self) == #"{"a":1,"b":2}"#)

    let object = try HTTPResponse.json(object: ["url": "https://x/y", "n": [1, 2]])
    #expect(String(decoding: object.body, as: UTF8.self) == #"{"n":[1,2],"url":"https://x/y"}"#)
    #expect(throws: HTTPError.self) { try HTTPResponse.json(object: "not a container") }
  }

  @Test("JSON request bodies: wrong type 415, empty or invalid or wrong shape 400")
  func jsonRequests() throws {
    func request(_ body: [UInt8], type: String? = "application/json") -> HTTPRequest {
      var headers = HTTPHeaders()
      if let type { headers["Content-Type"] = type }
      return HTTPRequest(method: .post, target: "/", headers: headers, body: body)
    }
    let good = try request(Array(#"{"name":"a","count":1}"#.utf8)).decodeJSON(Greeting.self)
    #expect(good == Greeting(name: "a", count: 1))
    let vendor = request(Array("{}".utf8), type: "application/problem+json; charset=utf-8")
    #expect(vendor.hasJSONContentType)

    let cases: [(HTTPRequest, HTTPError.Code)] = [
      (request(Array("{}".utf8), type: "text/plain"), .unsupportedMediaType),
      (request(Array("{}".utf8), type: nil), .unsupportedMediaType),
      (request([]), .invalidJSON),
      (request(Array("{".utf8)), .invalidJSON),
      (request([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]), .invalidJSON),
      (request(Array(#"{"name":"a","count":"x"}"#.utf8)), .invalidJSON),
    ]
    for (request, code) in cases {
      #expect(throws: HTTPError(code, status: .badRequest, "")) {
        try request.decodeJSON(Greeting.self)
      }
    }
    #expect(throws: HTTPError(.invalidJSON, status: .badRequest, "")) {
      try request(Array("[1,".utf8)).jsonObject()
    }
  }

  @Test("errors are equal by code and say what went wrong")
  func errors() {
    let error = HTTPError.badRequest("the request line is malformed")
    #expect(error == HTTPError(.badRequest, status: .badRequest, "another message"))
    #expect(error != HTTPError.notFound("x"))
    #expect(error.description.contains("BAD_REQUEST"))
    #expect(HTTPStatus(code: 431).reasonPhrase == "Request Header Fields Too Large")
    #expect(HTTPStatus(code: 599).reasonPhrase == "Status")
  }
}
