public import Foundation

extension HTTPRequest {
  /// Whether the `Content-Type` names JSON: `application/json` or a `+json` type, any
  /// parameters allowed.
  public var hasJSONContentType: Bool {
    guard let value = headers["content-type"] else { return false }
    let mediaType = value.split(separator: ";", maxSplits: 1).first.map {
      $0.trimmingCharacters(in: .whitespaces).lowercased()
    }
    guard let mediaType else { return false }
    return mediaType == "application/json"
      || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
  }

  /// Decodes the body as JSON.
  ///
  /// - Parameters:
  ///   - type: The type to decode.
  ///   - decoder: The decoder; default a plain `JSONDecoder`.
  /// - Returns: The decoded value.
  /// - Throws: ``HTTPError`` 415 `UNSUPPORTED_MEDIA_TYPE` when the content type is not JSON;
  ///   400 `INVALID_JSON` when the body is empty, not UTF-8 JSON, or not of the expected
  ///   shape (the message names the offending field).
  public func decodeJSON<Value: Decodable>(
    _ type: Value.Type = Value.self, decoder: JSONDecoder? = nil
  ) throws(HTTPError) -> Value {
    try requireJSONBody()
    do {
      return try (decoder ?? JSONDecoder()).decode(type, from: Data(body))
    } catch let error as DecodingError {
      throw HTTPError(
        .invalidJSON, status: .badRequest, Self.describe(error), cause: error)
    } catch {
      throw HTTPError(.invalidJSON, status: .badRequest, "the body is not valid JSON")
    }
  }

  /// Parses the body with `JSONSerialization` into dictionaries, arrays and scalars.
  ///
  /// - Returns: The top-level value.
  /// - Throws: ``HTTPError`` 415 or 400 as ``decodeJSON(_:decoder:)``.
  public func jsonObject() throws(HTTPError) -> Any {
    try requireJSONBody()
    do {
      return try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
    } catch {
      throw HTTPError(.invalidJSON, status: .badRequest, "the body is not valid JSON")
    }
  }

  private func requireJSONBody() throws(HTTPError) {
    guard hasJSONContentType else {
      throw HTTPError(
        .unsupportedMediaType, status: .unsupportedMediaType,
        "the body must be JSON, sent with Content-Type: application/json")
    }
    guard !body.isEmpty else {
      throw HTTPError(.invalidJSON, status: .badRequest, "the body is empty; JSON is expected")
    }
  }

  private static func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
      let keys = context.codingPath.map { key in
        key.intValue.map { "[\($0)]" } ?? key.stringValue
      }
      return keys.isEmpty ? "the body" : "'\(keys.joined(separator: "."))'"
    }
    switch error {
    case .keyNotFound(let key, let context):
      let parent = context.codingPath.isEmpty ? "the body" : path(context)
      return "\(parent) is missing the field '\(key.stringValue)'"
    case .typeMismatch(let type, let context):
      return "\(path(context)) must be of type \(type)"
    case .valueNotFound(let type, let context):
      return "\(path(context)) must be a \(type), not null"
    case .dataCorrupted(let context):
      return context.codingPath.isEmpty
        ? "the body is not valid JSON" : "\(path(context)) has an invalid value"
    @unknown default:
      return "the body is not the JSON expected"
    }
  }
}
