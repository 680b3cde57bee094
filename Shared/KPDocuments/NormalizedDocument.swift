/// A document reduced to what search needs: a title, a list of structural blocks and the plain
/// text.
public struct NormalizedDocument: Sendable, Hashable {
  /// The title: the one the source gave, else one from the content (HTML `<title>`, PDF
  /// metadata), else the first heading; empty when there is none.
  public var title: String

  /// The blocks in document order.
  public var blocks: [DocumentBlock]

  /// The plain text: the blocks' texts joined by blank lines (`"\n\n"`).
  public var text: String

  /// The media type the document was normalised as, such as `text/html`.
  public var contentType: String

  /// Whether text was dropped because the document passed an output limit
  /// (``NormalizationLimits/maximumOutputCharacters`` or
  /// ``NormalizationLimits/maximumPDFPages``).
  public var isTruncated: Bool

  /// Creates a normalised document; ``text`` is derived from the blocks.
  ///
  /// - Parameters:
  ///   - title: The document's title.
  ///   - blocks: The blocks in document order.
  ///   - contentType: The media type the document was normalised as.
  ///   - isTruncated: Whether text was dropped at a limit.
  public init(
    title: String,
    blocks: [DocumentBlock],
    contentType: String,
    isTruncated: Bool = false
  ) {
    self.title = title
    self.blocks = blocks
    self.text = blocks.map(\.text).joined(separator: "\n\n")
    self.contentType = contentType
    self.isTruncated = isTruncated
  }

  /// The SHA-256 of the title and the text: equal hashes mean nothing searchable changed.
  public var contentHash: ContentHash {
    ContentHash(title: title, text: text)
  }
}
