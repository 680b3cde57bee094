import Foundation
import KPRPC

/// The position a tenant listing resumes from: the last slug of the previous page, opaque to
/// callers (base64url of a versioned prefix and the slug).
struct PageToken: Sendable, Equatable {
  /// The last slug already returned.
  let afterSlug: String

  /// A token after `slug`.
  init(afterSlug: String) {
    self.afterSlug = afterSlug
  }

  /// Reads a token a previous response gave; an empty token starts at the beginning.
  ///
  /// - Throws: `RPCError` INVALID_ARGUMENT for text no response produced.
  init(parsing token: String) throws(RPCError) {
    if token.isEmpty {
      afterSlug = ""
      return
    }
    var base64 = token.replacingOccurrences(of: "-", with: "+")
      .replacingOccurrences(of: "_", with: "/")
    base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
    guard token.count <= 200, let data = Data(base64Encoded: base64),
      let text = String(data: data, encoding: .utf8), text.hasPrefix(Self.prefix)
    else {
      throw RPCError(.invalidArgument, "page_token is not one a previous response returned")
    }
    afterSlug = String(text.dropFirst(Self.prefix.count))
  }

  /// The token's text.
  var text: String {
    Data((Self.prefix + afterSlug).utf8).base64EncodedString()
      .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
      .replacingOccurrences(of: "=", with: "")
  }

  private static let prefix = "kp1:"
}
