import KPDocuments
import Testing

@Suite("Normaliser registry")
struct DocumentNormalizerRegistryTests {
  let registry = try! DocumentNormalizerRegistry.standard()

  @Test("lists the supported media types")
  func supported() {
    #expect(
      registry.supportedMediaTypes == [
        "application/pdf", "application/xhtml+xml", "text/html", "text/markdown", "text/plain",
        "text/x-markdown",
      ])
  }

  @Test("refuses an unknown content type, naming the supported ones")
  func unsupported() throws {
    let input = DocumentInput(contentType: "application/msword", data: [1, 2, 3])
    let error = try #require(throws: DocumentError.self) { try registry.normalize(input) }

    #expect(error.code == .unsupportedContentType)
    #expect(
      error.message
        == "content type application/msword is not supported; use one of application/pdf, "
        + "application/xhtml+xml, text/html, text/markdown, text/plain, text/x-markdown")
  }

  @Test(
    "refuses a content type that is not a media type",
    arguments: ["", "text", "text/", "/html", "text/html; charset", "te xt/html", "text/html\u{0}"])
  func malformedContentType(contentType: String) {
    #expect(throws: DocumentError(code: .unsupportedContentType, message: "")) {
      try registry.normalize(DocumentInput(contentType: contentType, text: "x"))
    }
  }

  @Test("matches content types without regard to case or parameters")
  func caseAndParameters() throws {
    let input = DocumentInput(contentType: "Text/Markdown; Charset=\"UTF-8\"", text: "# Hi")
    let document = try registry.normalize(input)
    #expect(document.blocks == [.heading(1, "Hi")])
    #expect(document.contentType == "text/markdown")
  }

  @Test("refuses a document over the size limit before parsing it")
  func sizeLimit() throws {
    let limited = try DocumentNormalizerRegistry.standard(
      limits: NormalizationLimits(maximumInputBytes: 100))
    // Garbage that would be malformed if it were parsed.
    let input = DocumentInput(contentType: "application/pdf", data: Array(repeating: 7, count: 101))
    let error = try #require(throws: DocumentError.self) { try limited.normalize(input) }

    #expect(error.code == .tooLarge)
    #expect(
      error.message
        == "the document is 101 bytes, over the limit of 100 bytes; split it or raise the limit")
    #expect(
      try limited.normalize(
        DocumentInput(contentType: "text/plain", text: String(repeating: "a", count: 100))
      )
      .text.count == 100)
  }

  @Test("refuses limits that are not positive")
  func invalidLimits() throws {
    let error = try #require(throws: DocumentError.self) {
      try DocumentNormalizerRegistry(limits: NormalizationLimits(maximumHTMLDepth: 0))
    }
    #expect(error.code == .invalidConfiguration)
    #expect(error.message == "maximumHTMLDepth is 0; it must be at least 1")
  }

  @Test("a registered normaliser replaces the standard one for its types")
  func register() throws {
    struct Upper: DocumentNormalizer {
      var mediaTypes: [String] { ["TEXT/PLAIN"] }
      func normalize(
        _ input: DocumentInput, as mediaType: MediaType, limits: NormalizationLimits
      ) throws(DocumentError) -> NormalizedDocument {
        NormalizedDocument(title: "", blocks: [.paragraph("custom")], contentType: "text/plain")
      }
    }
    var custom = try DocumentNormalizerRegistry.standard()
    custom.register(Upper())
    #expect(
      try custom.normalize(DocumentInput(contentType: "text/plain", text: "x")).text == "custom")
  }

  @Test("parses media types")
  func mediaTypes() {
    let parsed = MediaType(parsing: "Text/HTML; Charset=\"UTF-8\" ; level=1")
    #expect(parsed?.essence == "text/html")
    #expect(parsed?.charset == "utf-8")
    #expect(parsed?.description == "text/html; charset=UTF-8; level=1")
    #expect(MediaType(parsing: "text/html; =x") == nil)
  }
}
