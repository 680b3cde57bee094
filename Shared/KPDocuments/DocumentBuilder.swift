/// Collects a document's text block by block while a normaliser walks its format: collapses
/// whitespace, drops control characters, and stops taking text at the output limit.
struct DocumentBuilder {
  /// The most characters a title keeps; longer titles are cut.
  static let maximumTitleCharacters = 1_000

  private(set) var blocks: [DocumentBlock] = []
  private(set) var isTruncated = false

  private var current: [UInt8] = []
  private var currentCount = 0
  private var currentKind = DocumentBlock.Kind.paragraph
  private var currentPage: Int?
  private var pendingSpace = false
  private var remaining: Int

  /// Creates a builder that keeps at most `maximumCharacters` Unicode scalars of text.
  init(maximumCharacters: Int) {
    remaining = maximumCharacters
  }

  /// Whether the output limit has been reached; a walker may stop early.
  var isFull: Bool { remaining <= 0 }

  /// Ends the current block and starts one of `kind`.
  mutating func begin(_ kind: DocumentBlock.Kind, page: Int? = nil) {
    endBlock()
    currentKind = kind
    currentPage = page
  }

  /// Ends the current block, keeping it when it has text, and goes back to paragraphs (on the
  /// same page).
  mutating func endBlock() {
    if currentCount > 0 {
      let text = String(decoding: current, as: UTF8.self)
      blocks.append(DocumentBlock(kind: currentKind, text: text, page: currentPage))
      remaining -= 2
    }
    current.removeAll(keepingCapacity: true)
    currentCount = 0
    pendingSpace = false
    currentKind = .paragraph
  }

  /// Appends text to the current block: whitespace and control characters become one space
  /// between words.
  mutating func append(_ text: some StringProtocol) {
    let done: Void? = text.utf8.withContiguousStorageIfAvailable { append(utf8: $0) }
    if done == nil {
      var copy = String(text)
      copy.withUTF8 { append(utf8: $0) }
    }
  }

  /// Appends a NUL-terminated UTF-8 string from a C library, as ``append(_:)`` does.
  mutating func append(cString: UnsafePointer<CChar>) {
    var count = 0
    while cString[count] != 0 {
      count += 1
    }
    cString.withMemoryRebound(to: UInt8.self, capacity: count) {
      append(utf8: UnsafeBufferPointer(start: $0, count: count))
    }
  }

  /// Appends text in which blank lines separate paragraphs and other line breaks only separate
  /// words, as plain text and PDF pages have it.
  mutating func appendParagraphs(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
      var lineStart = 0
      while lineStart <= bytes.count && !isTruncated {
        let rest = bytes[lineStart...]
        let lineEnd = rest.firstIndex(of: 0x0A) ?? bytes.count
        let before = currentCount
        append(utf8: UnsafeBufferPointer(rebasing: bytes[lineStart..<lineEnd]))
        if currentCount == before {
          // A line with nothing but whitespace ends the paragraph.
          begin(.paragraph, page: currentPage)
        } else {
          pendingSpace = true
        }
        lineStart = lineEnd + 1
      }
    }
  }

  /// Appends UTF-8 bytes, as ``append(_:)`` does. Bytes that are not UTF-8 are skipped.
  mutating func append(utf8 bytes: UnsafeBufferPointer<UInt8>) {
    var index = 0
    let count = bytes.count
    while index < count {
      let lead = bytes[index]
      var length = 1
      let isSeparator: Bool
      if lead < 0x80 {
        isSeparator = lead <= 0x20 || lead == 0x7F
      } else {
        length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0
        guard length > 0, index + length <= count else {
          index += 1
          continue
        }
        var value = UInt32(lead) & (0xFF >> UInt32(length + 1))
        for offset in 1..<length {
          value = value << 6 | UInt32(bytes[index + offset] & 0x3F)
        }
        guard let scalar = Unicode.Scalar(value) else {
          index += 1
          continue
        }
        isSeparator = Self.isSeparator(scalar)
      }

      if isSeparator {
        pendingSpace = pendingSpace || currentCount > 0
        index += length
        continue
      }
      guard remaining > (pendingSpace ? 1 : 0) else {
        isTruncated = true
        remaining = 0
        return
      }
      if pendingSpace {
        current.append(0x20)
        currentCount += 1
        remaining -= 1
        pendingSpace = false
      }
      if length == 1 {
        current.append(lead)
      } else {
        current.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index..<index + length]))
      }
      currentCount += 1
      remaining -= 1
      index += length
    }
  }

  /// Adds a whole block of `kind` with `text`.
  mutating func add(_ kind: DocumentBlock.Kind, _ text: some StringProtocol, page: Int? = nil) {
    begin(kind, page: page)
    append(text)
    endBlock()
  }

  /// Marks the document as cut short by a limit other than the output size.
  mutating func markTruncated() {
    isTruncated = true
  }

  /// Finishes the document.
  ///
  /// - Parameters:
  ///   - sourceTitle: The title the source gave, which wins when it is not blank.
  ///   - contentTitle: A title found in the content (HTML `<title>`, PDF metadata).
  ///   - contentType: The media type the document was normalised as.
  /// - Throws: ``DocumentError/Code/emptyDocument`` when no block has text.
  mutating func finish(
    sourceTitle: String?,
    contentTitle: String?,
    contentType: String
  ) throws(DocumentError) -> NormalizedDocument {
    endBlock()
    guard !blocks.isEmpty else {
      throw DocumentError(
        code: .emptyDocument,
        message: "the \(contentType) document has no text once normalised; send a document "
          + "with searchable text or delete it from the source")
    }

    let candidates = [sourceTitle, contentTitle, blocks.first(where: \.kind.isHeading)?.text]
    var title = ""
    for candidate in candidates {
      title = Self.collapse(candidate ?? "", limit: Self.maximumTitleCharacters)
      if !title.isEmpty {
        break
      }
    }
    return NormalizedDocument(
      title: title, blocks: blocks, contentType: contentType, isTruncated: isTruncated)
  }

  /// Text on one line with whitespace collapsed, cut to `limit` Unicode scalars.
  static func collapse(_ text: some StringProtocol, limit: Int = .max) -> String {
    var builder = DocumentBuilder(maximumCharacters: limit)
    builder.append(text)
    return String(decoding: builder.current, as: UTF8.self)
  }

  /// Whether a scalar separates words: whitespace, or a control character such as NUL.
  static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
    if scalar.value < 0x21 || (scalar.value >= 0x7F && scalar.value <= 0x9F) {
      return true
    }
    if scalar.value < 0x80 {
      return false
    }
    return scalar.properties.isWhitespace || scalar.value == 0xFEFF
  }
}
