/// One block of a normalised document: a heading with its level, or a paragraph.
///
/// A block's text is a single line: whitespace runs are collapsed to one space, and control
/// characters (which PostgreSQL's `text` cannot always hold) are gone.
public struct DocumentBlock: Sendable, Hashable, CustomStringConvertible {
  /// What a block is. New kinds may be added; compare with `==`.
  public struct Kind: Sendable, Hashable, CustomStringConvertible {
    /// The heading level from 1 (most important) to 6, or `nil` for a paragraph.
    public let headingLevel: Int?

    private init(headingLevel: Int?) {
      self.headingLevel = headingLevel
    }

    /// A paragraph of body text (also a list item, a table row, a code block).
    public static let paragraph = Kind(headingLevel: nil)

    /// A heading; the level is clamped to 1...6.
    ///
    /// - Parameter level: The heading level, 1 for the most important.
    public static func heading(level: Int) -> Kind {
      Kind(headingLevel: min(max(level, 1), 6))
    }

    /// Whether this is a heading.
    public var isHeading: Bool { headingLevel != nil }

    /// `paragraph`, or `heading(2)` and so on.
    public var description: String {
      headingLevel.map { "heading(\($0))" } ?? "paragraph"
    }
  }

  /// What the block is.
  public var kind: Kind

  /// The block's text on one line.
  public var text: String

  /// The 1-based PDF page the block comes from; `nil` for formats without pages.
  public var page: Int?

  /// Creates a block.
  ///
  /// - Parameters:
  ///   - kind: What the block is.
  ///   - text: The block's text.
  ///   - page: The 1-based page it comes from, if the format has pages.
  public init(kind: Kind, text: String, page: Int? = nil) {
    self.kind = kind
    self.text = text
    self.page = page
  }

  /// A paragraph block.
  ///
  /// - Parameters:
  ///   - text: The paragraph's text.
  ///   - page: The 1-based page it comes from, if the format has pages.
  public static func paragraph(_ text: String, page: Int? = nil) -> DocumentBlock {
    DocumentBlock(kind: .paragraph, text: text, page: page)
  }

  /// A heading block.
  ///
  /// - Parameters:
  ///   - level: The heading level, 1 for the most important.
  ///   - text: The heading's text.
  public static func heading(_ level: Int, _ text: String) -> DocumentBlock {
    DocumentBlock(kind: .heading(level: level), text: text)
  }

  /// The kind and the text, for test failures and debugging.
  public var description: String { "\(kind): \(text)" }
}
