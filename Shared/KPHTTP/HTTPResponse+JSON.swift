public import Foundation

extension HTTPResponse {
  /// The media type of JSON bodies.
  static let jsonContentType = "application/json; charset=utf-8"

  /// A response whose body is `value` encoded as JSON.
  ///
  /// - Parameters:
  ///   - value: What to encode.
  ///   - status: The status; default 200.
  ///   - encoder: The encoder; default a `JSONEncoder` with sorted keys and unescaped slashes.
  /// - Throws: ``HTTPError`` `INTERNAL` when the value cannot be encoded.
  public static func json<Value: Encodable>(
    _ value: Value, status: HTTPStatus = .ok, encoder: JSONEncoder? = nil
  ) throws(HTTPError) -> HTTPResponse {
    let encoder = encoder ?? defaultEncoder()
    do {
      let data = try encoder.encode(value)
      return HTTPResponse(
        status: status, headers: ["Content-Type": jsonContentType], body: Array(data))
    } catch {
      throw .internalError("the response could not be encoded as JSON", cause: error)
    }
  }

  /// A response whose body is a Foundation JSON object (dictionaries, arrays, strings,
  /// numbers, booleans and `NSNull`) serialized with `JSONSerialization`.
  ///
  /// - Parameters:
  ///   - object: What to serialize.
  ///   - status: The status; default 200.
  /// - Throws: ``HTTPError`` `INTERNAL` when the object is not valid JSON.
  public static func json(object: Any, status: HTTPStatus = .ok) throws(HTTPError)
    -> HTTPResponse
  {
    guard JSONSerialization.isValidJSONObject(object) else {
      throw .internalError("the response is not a valid JSON object")
    }
    do {
      let data = try JSONSerialization.data(
        withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
      return HTTPResponse(
        status: status, headers: ["Content-Type": jsonContentType], body: Array(data))
    } catch {
      throw .internalError("the response could not be serialized as JSON", cause: error)
    }
  }

  /// The gateway's error response, `{"error": {"code": "...", "message": "..."}}`, with the
  /// error's status.
  ///
  /// - Parameters:
  ///   - error: The error; its cause is not sent.
  ///   - requestID: The request's id, sent as `error.request_id` when given.
  public init(error: HTTPError, requestID: String? = nil) {
    self.init(
      status: error.status, code: error.code, message: error.message, requestID: requestID)
  }

  /// The gateway's error response with any status and code.
  ///
  /// - Parameters:
  ///   - status: The status.
  ///   - code: The code sent as `error.code`.
  ///   - message: The message sent as `error.message`.
  ///   - requestID: The request's id, sent as `error.request_id` when given.
  public init(
    status: HTTPStatus, code: HTTPError.Code, message: String, requestID: String? = nil
  ) {
    let body = ErrorBody(
      error: .init(code: code.rawValue, message: message, requestID: requestID))
    let data = (try? Self.defaultEncoder().encode(body)) ?? Data("{}".utf8)
    self.init(status: status, headers: ["Content-Type": Self.jsonContentType], body: Array(data))
  }

  private static func defaultEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }
}

/// The error body's shape.
private struct ErrorBody: Encodable {
  struct Detail: Encodable {
    var code: String
    var message: String
    var requestID: String?

    enum CodingKeys: String, CodingKey {
      case code, message
      case requestID = "request_id"
    }
  }

  var error: Detail
}
