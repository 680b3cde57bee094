import KPHTTP
import KPRPC

/// An error the gateway answers with: a stable code, the HTTP status that fits it, and a
/// message a person can act on.
///
/// Codes are the RPC status names (`NOT_FOUND`, `UNAUTHENTICATED`, ...) or the HTTP-level
/// codes `PAYLOAD_TOO_LARGE`, `UNSUPPORTED_MEDIA_TYPE`, `METHOD_NOT_ALLOWED` and
/// `REQUEST_TIMEOUT`. The message never repeats a credential or document text.
struct GatewayError: Error, Sendable, CustomStringConvertible {
  /// The code clients match on.
  var code: String
  /// The response status.
  var status: HTTPStatus
  /// What went wrong, in plain words.
  var message: String
  /// Seconds a client should wait before retrying, sent as `Retry-After`. A 429 without it
  /// (a plan quota that is full) is not worth retrying as it is.
  var retryAfterSeconds: Int?

  /// Makes an error whose status follows from its code.
  init(_ code: String, _ message: String, status: HTTPStatus? = nil) {
    self.code = code
    self.status = status ?? Self.status(for: code)
    self.message = message
  }

  /// The error an upstream call's status turns into, with its `retry-after-seconds` trailer as
  /// `retryAfterSeconds`.
  init(_ error: RPCError) {
    let name = error.code == .unknown || error.code == .dataLoss ? "INTERNAL" : error.code.name
    switch error.code {
    case .cancelled: self.init("UNAVAILABLE", "the request was cancelled; try again")
    case .aborted: self.init("ALREADY_EXISTS", error.message)
    case .outOfRange: self.init("INVALID_ARGUMENT", error.message)
    case .internalError, .unknown, .dataLoss:
      self.init(name, "an internal service failed; try again later")
    default: self.init(name, error.message)
    }
    retryAfterSeconds = error.retryAfterSeconds
  }

  var description: String { "\(code) (\(status.code)): \(message)" }

  /// The same error as an RPC status, for the external RPC port; `retryAfterSeconds` goes as
  /// the `retry-after-seconds` trailer.
  var rpcError: RPCError {
    let code: RPCError.Code =
      switch self.code {
      case "INVALID_ARGUMENT", "UNSUPPORTED_MEDIA_TYPE": .invalidArgument
      case "UNAUTHENTICATED": .unauthenticated
      case "PERMISSION_DENIED": .permissionDenied
      case "NOT_FOUND": .notFound
      case "ALREADY_EXISTS": .alreadyExists
      case "FAILED_PRECONDITION": .failedPrecondition
      case "RESOURCE_EXHAUSTED", "PAYLOAD_TOO_LARGE": .resourceExhausted
      case "UNAVAILABLE": .unavailable
      case "DEADLINE_EXCEEDED", "REQUEST_TIMEOUT": .deadlineExceeded
      case "UNIMPLEMENTED", "METHOD_NOT_ALLOWED": .unimplemented
      default: .internalError
      }
    var error = RPCError(code, message)
    error.retryAfterSeconds = retryAfterSeconds
    return error
  }

  /// The HTTP status each code answers with.
  static func status(for code: String) -> HTTPStatus {
    switch code {
    case "INVALID_ARGUMENT": .badRequest
    case "UNAUTHENTICATED": .unauthorized
    case "PERMISSION_DENIED": .forbidden
    case "NOT_FOUND": .notFound
    case "METHOD_NOT_ALLOWED": .methodNotAllowed
    case "REQUEST_TIMEOUT": .requestTimeout
    case "ALREADY_EXISTS", "FAILED_PRECONDITION": .conflict
    case "PAYLOAD_TOO_LARGE": .contentTooLarge
    case "UNSUPPORTED_MEDIA_TYPE": .unsupportedMediaType
    case "RESOURCE_EXHAUSTED": .tooManyRequests
    case "UNIMPLEMENTED": .notImplemented
    case "UNAVAILABLE": .serviceUnavailable
    case "DEADLINE_EXCEEDED": .gatewayTimeout
    default: .internalServerError
    }
  }

  /// 400: a query parameter or header is wrong.
  static func invalid(_ message: String) -> GatewayError {
    GatewayError("INVALID_ARGUMENT", message)
  }

  /// 422: the body is JSON but not of the shape the route takes.
  static func unprocessable(_ message: String) -> GatewayError {
    GatewayError("INVALID_ARGUMENT", message, status: .unprocessableContent)
  }

  /// 401.
  static func unauthenticated(_ message: String) -> GatewayError {
    GatewayError("UNAUTHENTICATED", message)
  }

  /// 403.
  static func forbidden(_ message: String) -> GatewayError {
    GatewayError("PERMISSION_DENIED", message)
  }

  /// 404.
  static func notFound(_ message: String) -> GatewayError {
    GatewayError("NOT_FOUND", message)
  }

  /// 429 with `Retry-After`: too much at once, which passes.
  static func busy(_ message: String, retryAfterSeconds: Int) -> GatewayError {
    var error = GatewayError("RESOURCE_EXHAUSTED", message)
    error.retryAfterSeconds = max(1, retryAfterSeconds)
    return error
  }

  /// 413: the body is larger than the route takes.
  static func tooLarge(_ message: String) -> GatewayError {
    GatewayError("PAYLOAD_TOO_LARGE", message)
  }
}
