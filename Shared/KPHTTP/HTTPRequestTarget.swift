import CHTTPParser
import Foundation

/// A request-target split by http-parser's URL parser into its path and query, decoded.
///
/// Decoding is lenient: a component whose escapes are malformed, or decode to bytes that are
/// not UTF-8, is kept as written. The raw ``path`` is kept for callers that need it exact.
struct HTTPRequestTarget {
  var path = "/"
  var pathSegments: [String] = []
  var queryItems: [HTTPQueryItem] = []
  /// Whether http-parser accepted the target.
  var isValid = false

  init(_ target: String, isConnect: Bool) {
    var url = http_parser_url()
    http_parser_url_init(&url)
    let bytes = Array(target.utf8)
    let status = bytes.withUnsafeBufferPointer { buffer in
      buffer.withMemoryRebound(to: CChar.self) {
        http_parser_parse_url($0.baseAddress, $0.count, isConnect ? 1 : 0, &url)
      }
    }
    guard status == 0, !bytes.isEmpty else { return }
    isValid = true

    let path = Self.field(UF_PATH, of: url, in: bytes)
    let query = Self.field(UF_QUERY, of: url, in: bytes)
    self.path = path.map { String(decoding: $0, as: UTF8.self) } ?? "/"
    pathSegments = self.path.split(separator: "/").map { Self.decode(Substring($0)) }
    if let query {
      queryItems = String(decoding: query, as: UTF8.self).split(separator: "&").map { item in
        let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let name = Self.decode(pair[0], plusIsSpace: true)
        let value = pair.count > 1 ? Self.decode(pair[1], plusIsSpace: true) : ""
        return HTTPQueryItem(name: name, value: value)
      }
    }
  }

  private static func field(
    _ which: http_parser_url_fields, of url: http_parser_url, in bytes: [UInt8]
  ) -> ArraySlice<UInt8>? {
    var url = url
    var offset = 0
    var length = 0
    guard kp_http_parser_url_field(&url, which.rawValue, &offset, &length) != 0 else {
      return nil
    }
    guard offset + length <= bytes.count else { return nil }
    return bytes[offset..<(offset + length)]
  }

  private static func decode(_ text: Substring, plusIsSpace: Bool = false) -> String {
    let spaced = plusIsSpace ? text.replacingOccurrences(of: "+", with: " ") : String(text)
    guard spaced.contains("%") else { return spaced }
    return spaced.removingPercentEncoding ?? spaced
  }
}
