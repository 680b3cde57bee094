import Foundation

/// One answer curl received from the gateway.
struct CurlResponse: Sendable {
  /// The status code.
  var status: Int
  /// The header fields, names lowercased.
  var headers: [String: String]
  /// The body.
  var body: [UInt8]

  /// The body as text.
  var text: String { String(decoding: body, as: UTF8.self) }

  /// The body as a JSON object, or empty.
  var json: [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
  }

  /// The error body's code.
  var errorCode: String? {
    (json["error"] as? [String: Any])?["code"] as? String
  }

  /// The error body's message.
  var errorMessage: String {
    (json["error"] as? [String: Any])?["message"] as? String ?? ""
  }

  /// A string field of the body.
  func string(_ key: String) -> String {
    json[key] as? String ?? ""
  }

  /// The body's `items`.
  var items: [[String: Any]] {
    json["items"] as? [[String: Any]] ?? []
  }

  /// Reads what `curl --include` printed: interim 1xx blocks, the header block, the body.
  init(included: [UInt8]) {
    var rest = included[...]
    var head = ""
    let separator: [UInt8] = Array("\r\n\r\n".utf8)
    while let end = rest.firstRange(of: separator) {
      head = String(decoding: rest[..<end.lowerBound], as: UTF8.self)
      rest = rest[end.upperBound...]
      guard head.hasPrefix("HTTP/1.1 1") else { break }
    }
    self.init(head: head, body: Array(rest))
  }

  private init(head: String, body: [UInt8]) {
    let lines = head.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n")
    status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] =
        line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    self.headers = headers
    self.body = body
  }
}
