import Foundation

/// Where a listing or a search resumes: opaque to callers (base64url of a versioned prefix and
/// a position).
struct PageToken: Sendable, Equatable {
  /// The position: the last document id returned, or a search's offset.
  let position: String

  /// A token at a position.
  init(position: String) {
    self.position = position
  }

  /// Reads a token a previous response gave; an empty token starts at the beginning.
  ///
  /// - Throws: ``KnowledgeError`` `invalidArgument` for text no response produced.
  init(parsing token: String) throws(KnowledgeError) {
    if token.isEmpty {
      position = ""
      return
    }
    var base64 = token.replacingOccurrences(of: "-", with: "+")
      .replacingOccurrences(of: "_", with: "/")
    base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
    guard token.count <= 400, let data = Data(base64Encoded: base64),
      let text = String(data: data, encoding: .utf8), text.hasPrefix(Self.prefix)
    else {
      throw KnowledgeError(.invalidArgument, "page_token is not one a previous response returned")
    }
    position = String(text.dropFirst(Self.prefix.count))
  }

  /// The token's text.
  var text: String {
    Data((Self.prefix + position).utf8).base64EncodedString()
      .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
      .replacingOccurrences(of: "=", with: "")
  }

  private static let prefix = "kpk1:"
}
