import KPDocuments
import Testing

@Suite("Plain-text normaliser")
struct PlainTextNormalizerTests {
  let registry = try! DocumentNormalizerRegistry.standard()

  @Test("blank lines separate paragraphs; whitespace and control characters collapse")
  func paragraphs() throws {
    let text = "Hello  world\nsecond line\n\n\nNew para\r\n  \r\nThird\u{0}x\u{7}\n"
    let document = try registry.normalize(
      DocumentInput(contentType: "text/plain", text: text, title: "  Notes\n "))

    #expect(
      document.blocks == [
        .paragraph("Hello world second line"), .paragraph("New para"), .paragraph("Third x"),
      ])
    #expect(document.text == "Hello world second line\n\nNew para\n\nThird x")
    #expect(document.title == "Notes")
    #expect(document.contentType == "text/plain")
  }

  @Test("has no title unless the source gives one")
  func noTitle() throws {
    let document = try registry.normalize(DocumentInput(contentType: "text/plain", text: "Body"))
    #expect(document.title == "")
  }

  @Test("drops a byte-order mark")
  func byteOrderMark() throws {
    let document = try registry.normalize(
      DocumentInput(contentType: "text/plain", data: [0xEF, 0xBB, 0xBF] + Array("Hi".utf8)))
    #expect(document.text == "Hi")
  }

  @Test("refuses invalid UTF-8, naming the first bad byte")
  func invalidUTF8() throws {
    let input = DocumentInput(contentType: "text/plain", data: [0x48, 0x69, 0x20, 0xFF, 0x41])
    let error = try #require(throws: DocumentError.self) { try registry.normalize(input) }

    #expect(error.code == .invalidUTF8)
    #expect(
      error.message
        == "the text/plain document is not valid UTF-8 (first bad byte at offset 3); "
        + "convert it to UTF-8 before sending it")
  }

  @Test("refuses an overlong encoding and a lone surrogate")
  func invalidSequences() {
    for bytes: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0x61, 0xE2, 0x82]] {
      #expect(throws: DocumentError(code: .invalidUTF8, message: "")) {
        try registry.normalize(DocumentInput(contentType: "text/plain", data: bytes))
      }
    }
  }

  @Test("refuses a charset other than UTF-8")
  func otherCharset() throws {
    let input = DocumentInput(contentType: "text/plain; charset=ISO-8859-1", text: "abc")
    let error = try #require(throws: DocumentError.self) { try registry.normalize(input) }

    #expect(error.code == .unsupportedContentType)
    #expect(
      error.message
        == "charset \"iso-8859-1\" of text/plain is not supported; send the document as UTF-8")
  }

  @Test("refuses a document with no text", arguments: ["", "   \n\n\t\r\n", "\u{0}\u{1}"])
  func empty(text: String) {
    #expect(throws: DocumentError(code: .emptyDocument, message: "")) {
      try registry.normalize(DocumentInput(contentType: "text/plain", text: text))
    }
  }

  @Test("cuts the text at the output limit and marks the document truncated")
  func outputLimit() throws {
    let limited = try DocumentNormalizerRegistry.standard(
      limits: NormalizationLimits(maximumOutputCharacters: 10))
    let document = try limited.normalize(
      DocumentInput(contentType: "text/plain", text: "abcdefghij klmnop\n\nmore"))

    #expect(document.blocks == [.paragraph("abcdefghij")])
    #expect(document.isTruncated)
  }
}
