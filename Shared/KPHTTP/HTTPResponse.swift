/// A response from the handler: a status, header fields and a complete body.
///
/// The server adds `Content-Length` (and `Connection`, `Date` and `X-Request-Id` when the
/// response has none); `Content-Length`, `Transfer-Encoding` and `Connection` fields set here
/// are replaced by its own, since it alone knows how the body is framed and whether the
/// connection stays open.
public struct HTTPResponse: Sendable {
  /// The status.
  public var status: HTTPStatus
  /// The header fields.
  public var headers: HTTPHeaders
  /// The body; not sent for `HEAD` requests and for 1xx, 204 and 304 statuses.
  public var body: [UInt8]

  /// Makes a response.
  ///
  /// - Parameters:
  ///   - status: The status; default 200.
  ///   - headers: The header fields; default none.
  ///   - body: The body; default empty.
  public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
    self.status = status
    self.headers = headers
    self.body = body
  }

  /// A plain-text response in UTF-8.
  ///
  /// - Parameters:
  ///   - status: The status; default 200.
  ///   - text: The body.
  public init(status: HTTPStatus = .ok, text: String) {
    self.init(
      status: status, headers: ["Content-Type": "text/plain; charset=utf-8"],
      body: Array(text.utf8))
  }
}
