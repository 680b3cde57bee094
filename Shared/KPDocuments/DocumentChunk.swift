/// One piece of a document as the knowledge store indexes it: a run of body text under the
/// headings it belongs to.
public struct DocumentChunk: Sendable, Hashable, CustomStringConvertible {
  /// The chunk's position in its document, from 0.
  public var ordinal: Int

  /// The headings above the chunk, outermost first (`["Install", "On Linux"]`); empty for text
  /// before the first heading. The knowledge store weights these above the body and below the
  /// document's title, which no chunk repeats.
  public var headingPath: [String]

  /// The body text; paragraphs are separated by a blank line (`"\n\n"`).
  public var text: String

  /// Creates a chunk.
  ///
  /// - Parameters:
  ///   - ordinal: The chunk's position in its document, from 0.
  ///   - headingPath: The headings above the chunk, outermost first.
  ///   - text: The body text.
  public init(ordinal: Int, headingPath: [String], text: String) {
    self.ordinal = ordinal
    self.headingPath = headingPath
    self.text = text
  }

  /// The ordinal, the heading path and the text, for test failures and debugging.
  public var description: String {
    "#\(ordinal) [\(headingPath.joined(separator: " > "))] \(text)"
  }
}
