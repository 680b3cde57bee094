/// A document as a source delivers it: its declared content type, its bytes and, when the
/// source knows one, its title.
public struct DocumentInput: Sendable, Hashable {
  /// The declared media type, such as `text/html; charset=utf-8`.
  public var contentType: String

  /// The document's bytes, exactly as received.
  public var data: [UInt8]

  /// The title the source gives the document, if any. It wins over a title found in the
  /// content.
  public var title: String?

  /// Creates an input.
  ///
  /// - Parameters:
  ///   - contentType: The declared media type, such as `text/markdown`.
  ///   - data: The document's bytes.
  ///   - title: The title the source gives the document, if any.
  public init(contentType: String, data: [UInt8], title: String? = nil) {
    self.contentType = contentType
    self.data = data
    self.title = title
  }

  /// Creates an input from text, stored as UTF-8.
  ///
  /// - Parameters:
  ///   - contentType: The declared media type, such as `text/plain`.
  ///   - text: The document's text.
  ///   - title: The title the source gives the document, if any.
  public init(contentType: String, text: String, title: String? = nil) {
    self.init(contentType: contentType, data: Array(text.utf8), title: title)
  }
}
