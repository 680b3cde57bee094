public import KPRPC

/// One request as the handler sees it: fully received, body included.
public struct HTTPRequest: Sendable {
  /// The method, such as `GET`.
  public var method: HTTPMethod
  /// The request-target exactly as sent, such as `/v1/search?q=a%20b`.
  public var target: String
  /// The path part of the target, still percent-encoded, such as `/v1/tenants/acme`.
  public var path: String
  /// The path's segments, percent-decoded: `/v1/tenants/a%2Fb` gives
  /// `["v1", "tenants", "a/b"]`. Empty segments are dropped.
  public var pathSegments: [String]
  /// The query's items, in order, percent-decoded (`+` decodes to a space).
  public var queryItems: [HTTPQueryItem]
  /// The header fields, looked up by case-insensitive name.
  public var headers: HTTPHeaders
  /// The body, de-chunked; empty when there was none.
  public var body: [UInt8]
  /// The client's address, when the socket could tell it.
  public var remoteAddress: SocketAddress?
  /// An id for this request's log lines: the client's `X-Request-Id` when it is 1 to 128
  /// characters of letters, digits, `-`, `_`, `.` and `:`, otherwise a new 32-digit hex id.
  public var requestID: String

  /// Makes a request; the server makes them for the handler, tests may make their own.
  ///
  /// - Parameters:
  ///   - method: The method.
  ///   - target: The request-target; its path and query are decoded into ``pathSegments``
  ///     and ``queryItems``.
  ///   - headers: The header fields.
  ///   - body: The body.
  ///   - remoteAddress: The client's address.
  ///   - requestID: The request's id; default: taken from `X-Request-Id` or made.
  public init(
    method: HTTPMethod,
    target: String,
    headers: HTTPHeaders = HTTPHeaders(),
    body: [UInt8] = [],
    remoteAddress: SocketAddress? = nil,
    requestID: String? = nil
  ) {
    self.init(
      method: method, target: target,
      parts: HTTPRequestTarget(target, isConnect: method.rawValue == "CONNECT"),
      headers: headers, body: body, remoteAddress: remoteAddress)
    if let requestID { self.requestID = requestID }
  }

  /// Makes a request from a target already split, as the server does.
  init(
    method: HTTPMethod, target: String, parts: HTTPRequestTarget, headers: HTTPHeaders,
    body: [UInt8], remoteAddress: SocketAddress?
  ) {
    self.method = method
    self.target = target
    self.path = parts.path
    self.pathSegments = parts.pathSegments
    self.queryItems = parts.queryItems
    self.headers = headers
    self.body = body
    self.remoteAddress = remoteAddress
    self.requestID = Self.requestID(from: headers)
  }

  /// The first value of the named query item.
  public func queryValue(_ name: String) -> String? {
    queryItems.first { $0.name == name }?.value
  }

  /// The client's `X-Request-Id` when it is safe to log and pass on, or a new id.
  static func requestID(from headers: HTTPHeaders) -> String {
    if let offered = headers["x-request-id"], (1...128).contains(offered.utf8.count),
      offered.utf8.allSatisfy(isRequestIDByte)
    {
      return offered
    }
    return TraceID.make()
  }

  private static func isRequestIDByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
      UInt8(ascii: "."), UInt8(ascii: ":"):
      return true
    default:
      return false
    }
  }
}
