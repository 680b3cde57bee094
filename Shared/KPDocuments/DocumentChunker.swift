/// Splits a normalised document into chunks along its structure, under a size cap, with
/// overlap.
///
/// Each heading starts a section whose heading path is the headings above it; the paragraphs
/// of a section accumulate into a chunk while they fit under
/// ``Configuration/maximumCharacters``. A section too long for one chunk is cut at the last
/// paragraph break that fits, else the last sentence end, else the last space, else (a single
/// word longer than the cap) at the cap, moved back so as not to split a combining sequence.
/// Each further chunk of a section starts with up to ``Configuration/overlapCharacters`` of the
/// previous chunk's end, from a word's start. A heading with no text of its own under it (and
/// none under its subheadings) becomes a paragraph of the section above it, so no heading is
/// lost.
///
/// Sizes count Unicode scalars, as PostgreSQL counts characters; a chunk never splits a
/// scalar. The same document always gives the same chunks.
public struct DocumentChunker: Sendable {
  /// The chunk size and overlap.
  public struct Configuration: Sendable, Hashable {
    /// The most characters (Unicode scalars) in a chunk's text.
    ///
    /// Default: 1,500. Environment: `KP_INGEST_CHUNK_CHARACTERS`.
    public var maximumCharacters: Int

    /// How many characters of a chunk's end the next chunk of the same section repeats,
    /// rounded to a word's start; at most half of ``maximumCharacters``.
    ///
    /// Default: 200. Environment: `KP_INGEST_CHUNK_OVERLAP`.
    public var overlapCharacters: Int

    /// Creates a configuration; every argument has the documented default.
    ///
    /// - Parameters:
    ///   - maximumCharacters: The most characters in a chunk's text.
    ///   - overlapCharacters: How many characters the next chunk repeats.
    public init(maximumCharacters: Int = 1_500, overlapCharacters: Int = 200) {
      self.maximumCharacters = maximumCharacters
      self.overlapCharacters = overlapCharacters
    }
  }

  /// The chunk size and overlap in use.
  public let configuration: Configuration

  /// Creates a chunker.
  ///
  /// - Parameter configuration: The chunk size and overlap.
  /// - Throws: ``DocumentError/Code/invalidConfiguration`` when the size is below 1 or the
  ///   overlap is negative or more than half the size.
  public init(configuration: Configuration = Configuration()) throws(DocumentError) {
    guard configuration.maximumCharacters >= 1 else {
      throw DocumentError(
        code: .invalidConfiguration,
        message: "the chunk size is \(configuration.maximumCharacters) characters; it must be "
          + "at least 1")
    }
    guard configuration.overlapCharacters >= 0,
      configuration.overlapCharacters <= configuration.maximumCharacters / 2
    else {
      throw DocumentError(
        code: .invalidConfiguration,
        message: "the chunk overlap is \(configuration.overlapCharacters) characters; it must be "
          + "between 0 and half the chunk size (\(configuration.maximumCharacters / 2))")
    }
    self.configuration = configuration
  }

  /// The document's chunks, in order, numbered from 0.
  ///
  /// - Parameter document: A normalised document.
  /// - Returns: The chunks; none when the document has no blocks.
  public func chunks(of document: NormalizedDocument) -> [DocumentChunk] {
    var chunks: [DocumentChunk] = []
    for section in Self.sections(of: document.blocks) {
      for text in split(section.paragraphs.joined(separator: "\n\n")) {
        chunks.append(
          DocumentChunk(ordinal: chunks.count, headingPath: section.headingPath, text: text))
      }
    }
    return chunks
  }

  /// The body text of one section under its heading path.
  private struct Section {
    var headingPath: [String]
    var paragraphs: [String]
  }

  /// A heading that encloses the current position.
  private struct OpenHeading {
    var level: Int
    var text: String
    var hasContent = false
  }

  /// Groups blocks into sections; headings without content become paragraphs of their parent.
  private static func sections(of blocks: [DocumentBlock]) -> [Section] {
    var sections: [Section] = []
    var headings: [OpenHeading] = []
    var paragraphs: [String] = []

    func flush() {
      guard !paragraphs.isEmpty else {
        return
      }
      sections.append(Section(headingPath: headings.map(\.text), paragraphs: paragraphs))
      paragraphs = []
      for index in headings.indices {
        headings[index].hasContent = true
      }
    }

    func close(downTo level: Int) {
      flush()
      var orphans: [String] = []
      while let last = headings.last, last.level >= level {
        headings.removeLast()
        if !last.hasContent {
          orphans.insert(last.text, at: 0)
        }
      }
      paragraphs = orphans
      flush()
    }

    for block in blocks where !block.text.isEmpty {
      if let level = block.kind.headingLevel {
        close(downTo: level)
        headings.append(OpenHeading(level: level, text: block.text))
      } else {
        paragraphs.append(block.text)
      }
    }
    close(downTo: 1)
    return sections
  }

  /// Cuts one section's text into chunk texts.
  private func split(_ text: String) -> [String] {
    let scalars = Array(text.unicodeScalars)
    let count = scalars.count
    let cap = configuration.maximumCharacters
    var pieces: [String] = []
    var start = 0
    var emittedEnd = 0

    while true {
      while start < count && Self.isSpace(scalars[start]) {
        start += 1
      }
      if start >= count {
        break
      }
      let end: Int
      if count - start <= cap {
        end = count
      } else {
        end = Self.cut(scalars, from: start, limit: start + cap, after: max(start, emittedEnd))
      }
      pieces.append(Self.trimmed(scalars[start..<end]))
      emittedEnd = end
      if end >= count {
        break
      }
      start = overlapStart(scalars, chunkStart: start, end: end)
    }
    return pieces
  }

  /// Where the chunk after `start..<end` begins: a word's start within the overlap, or `end`.
  private func overlapStart(_ scalars: [Unicode.Scalar], chunkStart: Int, end: Int) -> Int {
    let overlap = configuration.overlapCharacters
    guard overlap > 0 else {
      return end
    }
    var candidate = max(end - overlap, chunkStart + 1)
    while candidate < end {
      if !Self.isSpace(scalars[candidate]) && Self.isSpace(scalars[candidate - 1]) {
        return candidate
      }
      candidate += 1
    }
    return end
  }

  /// The best end for a chunk starting before `limit`: strictly after `floor`, at most `limit`.
  private static func cut(
    _ scalars: [Unicode.Scalar],
    from start: Int,
    limit: Int,
    after floor: Int
  ) -> Int {
    // A paragraph break: the chunk ends before the blank line.
    var index = limit
    while index > floor + 1 {
      if scalars[index - 1] == "\n" && scalars[index] == "\n" {
        return index - 1
      }
      index -= 1
    }
    // A sentence's end: terminal punctuation followed by a space.
    index = limit
    while index > floor + 1 {
      if isSpace(scalars[index]) && isSentenceEnd(scalars[index - 1]) {
        return index
      }
      index -= 1
    }
    // A word's end.
    index = limit
    while index > floor + 1 {
      if isSpace(scalars[index]) && !isSpace(scalars[index - 1]) {
        return index
      }
      index -= 1
    }
    // No boundary: cut at the limit, but not between a character and its combining marks.
    index = limit
    while index > floor + 1 && continuesCluster(scalars[index], after: scalars[index - 1]) {
      index -= 1
    }
    return index
  }

  private static func trimmed(_ slice: ArraySlice<Unicode.Scalar>) -> String {
    var slice = slice
    while let last = slice.last, isSpace(last) {
      slice.removeLast()
    }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(slice.count)
    for scalar in slice {
      if scalar.isASCII {
        bytes.append(UInt8(truncatingIfNeeded: scalar.value))
      } else {
        UTF8.encode(scalar) { bytes.append($0) }
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
    scalar == " " || scalar == "\n"
  }

  private static func isSentenceEnd(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case ".", "!", "?", "\u{2026}", "\u{3002}", "\u{FF01}", "\u{FF1F}": true
    default: false
    }
  }

  /// Whether `scalar` belongs to the same user-perceived character as the one before it.
  private static func continuesCluster(_ scalar: Unicode.Scalar, after previous: Unicode.Scalar)
    -> Bool
  {
    if previous == "\u{200D}" {
      return true
    }
    switch scalar.value {
    case 0x200D, 0xFE00...0xFE0F, 0x1F3FB...0x1F3FF, 0xE0020...0xE007F, 0xE0100...0xE01EF:
      return true
    default:
      break
    }
    switch scalar.properties.generalCategory {
    case .nonspacingMark, .spacingMark, .enclosingMark:
      return true
    default:
      return false
    }
  }
}
