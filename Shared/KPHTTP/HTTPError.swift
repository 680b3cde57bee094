/// An error of the HTTP layer: a stable ``Code``, the status it answers with, and a message.
///
/// The code is what clients match on; it is sent as `error.code` in the gateway's error body
/// `{"error": {"code": "NOT_FOUND", "message": "..."}}`. The message says in plain words what
/// was wrong with the request and never repeats secrets from it. Two errors are equal when
/// their codes are equal.
public struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The kind of an ``HTTPError``: an upper-case token such as `NOT_FOUND`.
  ///
  /// New codes may be added here and by callers (`HTTPError.Code("QUOTA_EXCEEDED")`); match
  /// the ones you handle and treat the rest alike.
  public struct Code: Sendable, Hashable, CustomStringConvertible {
    /// The token sent to clients.
    public let rawValue: String

    /// Makes a code from its token.
    public init(_ rawValue: String) {
      self.rawValue = rawValue
    }

    public var description: String { rawValue }

    /// The request is not valid HTTP, or not valid for the server.
    public static let badRequest = Code("BAD_REQUEST")
    /// The request line or URL is longer than allowed.
    public static let uriTooLong = Code("URI_TOO_LONG")
    /// The header block is larger than allowed.
    public static let headersTooLarge = Code("HEADERS_TOO_LARGE")
    /// The body is larger than allowed.
    public static let payloadTooLarge = Code("PAYLOAD_TOO_LARGE")
    /// The request is not HTTP/1.x.
    public static let httpVersionNotSupported = Code("HTTP_VERSION_NOT_SUPPORTED")
    /// The request did not arrive in time.
    public static let requestTimeout = Code("REQUEST_TIMEOUT")
    /// The body's content type is not one the endpoint accepts.
    public static let unsupportedMediaType = Code("UNSUPPORTED_MEDIA_TYPE")
    /// The body is not the JSON the endpoint expects.
    public static let invalidJSON = Code("INVALID_JSON")
    /// The resource does not exist (or is not visible to the caller).
    public static let notFound = Code("NOT_FOUND")
    /// The server failed; details are in its logs, not in the message.
    public static let internalError = Code("INTERNAL")
    /// The server could not start serving, for example because it cannot listen.
    public static let unavailable = Code("UNAVAILABLE")
  }

  /// What went wrong, for matching.
  public var code: Code
  /// The status a response for this error carries.
  public var status: HTTPStatus
  /// What went wrong, in plain words, safe to show the client.
  public var message: String
  /// The underlying error, for logs; never sent to clients.
  public var cause: (any Error & Sendable)?

  /// Makes an error.
  ///
  /// - Parameters:
  ///   - code: The code clients match on.
  ///   - status: The response status.
  ///   - message: A plain-words message safe to show the client.
  ///   - cause: The underlying error, for logs.
  public init(
    _ code: Code, status: HTTPStatus, _ message: String, cause: (any Error & Sendable)? = nil
  ) {
    self.code = code
    self.status = status
    self.message = message
    self.cause = cause
  }

  public static func == (lhs: HTTPError, rhs: HTTPError) -> Bool { lhs.code == rhs.code }

  public var description: String { "HTTPError(\(code), \(status.code)): \(message)" }

  /// 400 `BAD_REQUEST`.
  public static func badRequest(_ message: String) -> HTTPError {
    HTTPError(.badRequest, status: .badRequest, message)
  }

  /// 404 `NOT_FOUND`.
  public static func notFound(_ message: String) -> HTTPError {
    HTTPError(.notFound, status: .notFound, message)
  }

  /// 500 `INTERNAL`, with the cause kept for logs only.
  public static func internalError(_ message: String, cause: (any Error & Sendable)? = nil)
    -> HTTPError
  {
    HTTPError(.internalError, status: .internalServerError, message, cause: cause)
  }
}
