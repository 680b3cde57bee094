import Foundation
import KPHTTP

/// A request's JSON object body, with typed field access whose errors name the field.
///
/// A body that is not sent as JSON answers 415; one that is not UTF-8 JSON answers 400; JSON
/// whose top level is not an object, or whose fields have the wrong type, answers 422.
struct JSONBody {
  /// The decoded top-level object.
  let fields: [String: Any]
  /// Where the object sits in the request, for messages: `the body` or `documents[2]`.
  let path: String

  /// Decodes a request's body.
  init(_ request: HTTPRequest) throws(GatewayError) {
    guard request.hasJSONContentType else {
      throw GatewayError(
        "UNSUPPORTED_MEDIA_TYPE", "the body must be JSON, sent with Content-Type: application/json")
    }
    guard !request.body.isEmpty else {
      throw GatewayError.invalid("the body is empty; a JSON object is expected")
    }
    guard String(validating: request.body, as: UTF8.self) != nil else {
      throw GatewayError.invalid("the body is not valid UTF-8")
    }
    let value: Any
    do {
      value = try JSONSerialization.jsonObject(with: Data(request.body), options: [])
    } catch {
      throw GatewayError.invalid("the body is not valid JSON")
    }
    guard let object = value as? [String: Any] else {
      throw GatewayError.unprocessable("the body must be a JSON object")
    }
    self.init(object, path: "the body")
  }

  /// Wraps an object found inside another.
  init(_ fields: [String: Any], path: String) {
    self.fields = fields
    self.path = path
  }

  private func name(_ key: String) -> String {
    path == "the body" ? "'\(key)'" : "'\(path).\(key)'"
  }

  /// Whether the field is present and not null.
  func has(_ key: String) -> Bool {
    guard let value = fields[key] else { return false }
    return !(value is NSNull)
  }

  /// A string field; nil when absent and not required.
  func string(_ key: String, required: Bool = false) throws(GatewayError) -> String? {
    guard has(key) else {
      if required { throw .unprocessable("\(name(key)) is required") }
      return nil
    }
    guard let text = fields[key] as? String else {
      throw .unprocessable("\(name(key)) must be a string")
    }
    return text
  }

  /// A required string field.
  func requiredString(_ key: String) throws(GatewayError) -> String {
    try string(key, required: true) ?? ""
  }

  /// A boolean field.
  func bool(_ key: String) throws(GatewayError) -> Bool? {
    guard has(key) else { return nil }
    guard let number = fields[key] as? NSNumber, Self.isBoolean(number) else {
      throw .unprocessable("\(name(key)) must be true or false")
    }
    return number.boolValue
  }

  /// An array of strings.
  func strings(_ key: String, required: Bool = false) throws(GatewayError) -> [String]? {
    guard has(key) else {
      if required { throw .unprocessable("\(name(key)) is required") }
      return nil
    }
    guard let items = fields[key] as? [Any], let texts = items as? [String] else {
      throw .unprocessable("\(name(key)) must be an array of strings")
    }
    return texts
  }

  /// A nested object.
  func object(_ key: String, required: Bool = false) throws(GatewayError) -> JSONBody? {
    guard has(key) else {
      if required { throw .unprocessable("\(name(key)) is required") }
      return nil
    }
    guard let object = fields[key] as? [String: Any] else {
      throw .unprocessable("\(name(key)) must be an object")
    }
    return JSONBody(object, path: path == "the body" ? key : "\(path).\(key)")
  }

  /// An array of objects.
  func objects(_ key: String) throws(GatewayError) -> [JSONBody] {
    guard has(key), let items = fields[key] as? [Any] else {
      throw .unprocessable("\(name(key)) must be an array of objects")
    }
    var result: [JSONBody] = []
    for (index, item) in items.enumerated() {
      guard let object = item as? [String: Any] else {
        throw .unprocessable("'\(key)[\(index)]' must be an object")
      }
      result.append(JSONBody(object, path: "\(key)[\(index)]"))
    }
    return result
  }

  /// A timestamp in RFC 3339, as microseconds since the Unix epoch.
  func timestampMicros(_ key: String) throws(GatewayError) -> Int64? {
    guard let text = try string(key) else { return nil }
    guard let date = Timestamps.parse(text) else {
      throw .unprocessable("\(name(key)) must be an RFC 3339 time such as 2026-12-03T19:30:00Z")
    }
    return Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
  }

  private static func isBoolean(_ number: NSNumber) -> Bool {
    String(describing: type(of: number)).contains("Boolean")
  }
}
