/// An HTTP response status: a three-digit code and its reason phrase.
///
/// The common statuses are static members; any other code can be made with
/// ``init(code:reasonPhrase:)``. Two statuses are equal when their codes are equal.
public struct HTTPStatus: Sendable, Hashable, CustomStringConvertible {
  /// The status code, such as 404.
  public let code: Int
  /// The reason phrase sent after the code, such as `Not Found`.
  public let reasonPhrase: String

  /// Makes a status.
  ///
  /// - Parameters:
  ///   - code: The status code, 100 to 999.
  ///   - reasonPhrase: The phrase after the code; default: the standard phrase for known
  ///     codes, otherwise `Status`.
  public init(code: Int, reasonPhrase: String? = nil) {
    self.code = code
    self.reasonPhrase = reasonPhrase ?? Self.standardPhrases[code] ?? "Status"
  }

  public static func == (lhs: HTTPStatus, rhs: HTTPStatus) -> Bool { lhs.code == rhs.code }

  public func hash(into hasher: inout Hasher) { hasher.combine(code) }

  public var description: String { "\(code) \(reasonPhrase)" }

  /// Whether a response with this status never carries a body (1xx, 204 and 304).
  var forbidsBody: Bool { (100..<200).contains(code) || code == 204 || code == 304 }

  private static let standardPhrases: [Int: String] = [
    100: "Continue", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
    301: "Moved Permanently", 302: "Found", 304: "Not Modified", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    408: "Request Timeout", 409: "Conflict", 411: "Length Required", 413: "Content Too Large",
    414: "URI Too Long", 415: "Unsupported Media Type", 422: "Unprocessable Content",
    429: "Too Many Requests", 431: "Request Header Fields Too Large",
    500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
    504: "Gateway Timeout", 505: "HTTP Version Not Supported",
  ]

  /// 100 Continue.
  public static let `continue` = HTTPStatus(code: 100)
  /// 200 OK.
  public static let ok = HTTPStatus(code: 200)
  /// 201 Created.
  public static let created = HTTPStatus(code: 201)
  /// 202 Accepted.
  public static let accepted = HTTPStatus(code: 202)
  /// 204 No Content.
  public static let noContent = HTTPStatus(code: 204)
  /// 304 Not Modified.
  public static let notModified = HTTPStatus(code: 304)
  /// 400 Bad Request.
  public static let badRequest = HTTPStatus(code: 400)
  /// 401 Unauthorized.
  public static let unauthorized = HTTPStatus(code: 401)
  /// 403 Forbidden.
  public static let forbidden = HTTPStatus(code: 403)
  /// 404 Not Found.
  public static let notFound = HTTPStatus(code: 404)
  /// 405 Method Not Allowed.
  public static let methodNotAllowed = HTTPStatus(code: 405)
  /// 408 Request Timeout.
  public static let requestTimeout = HTTPStatus(code: 408)
  /// 409 Conflict.
  public static let conflict = HTTPStatus(code: 409)
  /// 413 Content Too Large.
  public static let contentTooLarge = HTTPStatus(code: 413)
  /// 414 URI Too Long.
  public static let uriTooLong = HTTPStatus(code: 414)
  /// 415 Unsupported Media Type.
  public static let unsupportedMediaType = HTTPStatus(code: 415)
  /// 422 Unprocessable Content.
  public static let unprocessableContent = HTTPStatus(code: 422)
  /// 429 Too Many Requests.
  public static let tooManyRequests = HTTPStatus(code: 429)
  /// 431 Request Header Fields Too Large.
  public static let requestHeaderFieldsTooLarge = HTTPStatus(code: 431)
  /// 500 Internal Server Error.
  public static let internalServerError = HTTPStatus(code: 500)
  /// 501 Not Implemented.
  public static let notImplemented = HTTPStatus(code: 501)
  /// 503 Service Unavailable.
  public static let serviceUnavailable = HTTPStatus(code: 503)
  /// 504 Gateway Timeout.
  public static let gatewayTimeout = HTTPStatus(code: 504)
  /// 505 HTTP Version Not Supported.
  public static let httpVersionNotSupported = HTTPStatus(code: 505)
}
