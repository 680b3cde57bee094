import Foundation

/// A complete response received by ``HTTPSClient``.
public struct HTTPClientResponse: Sendable {
  /// The status code, such as 200.
  public var status: Int
  /// The response's header fields.
  public var headers: HTTPHeaders
  /// The body, after any chunked transfer coding is removed.
  public var body: [UInt8]
  /// Whether the connection may carry another request.
  public var keepAlive: Bool

  /// Makes a response.
  public init(status: Int, headers: HTTPHeaders, body: [UInt8], keepAlive: Bool) {
    self.status = status
    self.headers = headers
    self.body = body
    self.keepAlive = keepAlive
  }

  /// The body as UTF-8 text (invalid sequences replaced).
  public var text: String { String(decoding: body, as: UTF8.self) }

  /// Decodes the body as JSON into `type`.
  public func decode<T: Decodable>(_ type: T.Type) throws -> T {
    try JSONDecoder().decode(type, from: Data(body))
  }

  /// The body parsed as a JSON object, or `nil` when it is not one.
  public var jsonObject: [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
  }
}
