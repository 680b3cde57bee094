import KPDocuments
import Testing

@Suite("HTML normaliser")
struct HTMLNormalizerTests {
  let registry = try! DocumentNormalizerRegistry.standard()

  func normalize(_ html: String, title: String? = nil) throws -> NormalizedDocument {
    try registry.normalize(DocumentInput(contentType: "text/html", text: html, title: title))
  }

  @Test("keeps the title and headings, drops boilerplate, decodes entities")
  func structure() throws {
    let html = """
      <!DOCTYPE html><html><head><title> The  Title &amp; More </title><style>p{}</style>
      <script>var x = "<p>not text</p>";</script></head>
      <body><header><nav><a href="/">Home</a></nav><p>Site banner</p></header>
      <main><article><header><h1>Main &lt;Heading&gt;</h1></header>
      <p>First   paragraph with <b>bold</b>&nbsp;and <a href="#">link</a>.</p>
      <div class="col sidebar">Related links</div>
      <h2>Details</h2><ul><li>One</li><li>Two</li></ul>
      <table><tr><td>Cell A</td><td>Cell B</td></tr></table>
      <aside>Aside text</aside><p hidden>Hidden</p><div aria-hidden="true">Invisible</div>
      <div role="navigation">Menu</div><noscript>Enable JS</noscript>
      <footer>Article footer</footer></article></main>
      <footer>Copyright 2024</footer></body></html>
      """
    let document = try normalize(html)

    #expect(document.title == "The Title & More")
    #expect(
      document.blocks == [
        .heading(1, "Main <Heading>"),
        .paragraph("First paragraph with bold and link."),
        .heading(2, "Details"),
        .paragraph("One"),
        .paragraph("Two"),
        .paragraph("Cell A Cell B"),
        .paragraph("Article footer"),
      ])
    #expect(document.contentType == "text/html")
  }

  @Test("takes the title from the source, else <title>, else the first heading")
  func titleOrder() throws {
    let page = "<title>Page</title><h2>Heading</h2><p>Body</p>"
    #expect(try normalize(page, title: "Source").title == "Source")
    #expect(try normalize(page).title == "Page")
    #expect(try normalize("<h3>Heading</h3><p>Body</p>").title == "Heading")
    #expect(try normalize("<p>Body</p>").title == "")
  }

  @Test("keeps text that only looks like markup, drops comments")
  func textAndComments() throws {
    let document = try normalize("<p>1 < 2 and 3 > 2</p><p>a<!-- <div> -->b</p><p>x<!--y")
    #expect(document.blocks == [.paragraph("1 < 2 and 3 > 2"), .paragraph("ab"), .paragraph("x")])
  }

  @Test("an unclosed script swallows the rest of the page")
  func unclosedScript() throws {
    let document = try normalize("<p>a</p><script>never closed <p>b</p>")
    #expect(document.blocks == [.paragraph("a")])
  }

  @Test("100,000 nested <div>s parse quickly and keep their text")
  func deepNesting() throws {
    let html =
      String(repeating: "<div>", count: 100_000) + "deep text"
      + String(repeating: "</div>", count: 100_000)
    let clock = ContinuousClock()
    var document: NormalizedDocument?
    let elapsed = try clock.measure { document = try normalize(html) }

    #expect(document?.blocks == [.paragraph("deep text")])
    #expect(elapsed < .seconds(20))
  }

  @Test("tags past the depth limit are dropped but their words stay apart")
  func depthLimit() throws {
    let limited = try DocumentNormalizerRegistry.standard(
      limits: NormalizationLimits(maximumHTMLDepth: 2))
    let html = "<div><div><div>a</div><div>b</div></div></div><div>c</div>"
    let document = try limited.normalize(DocumentInput(contentType: "text/html", text: html))
    #expect(document.blocks == [.paragraph("a b"), .paragraph("c")])
  }

  @Test("unclosed formatting elements are not cloned into every paragraph")
  func formattingBomb() throws {
    let html =
      (0..<20_000).map { "<b id=\($0)>" }.joined()
      + String(repeating: "<p>x", count: 20_000)
    let document = try normalize(html)

    #expect(document.blocks.count == 20_000)
    #expect(document.blocks.allSatisfy { $0 == .paragraph("x") })
  }

  @Test("caps the output of a huge page")
  func outputLimit() throws {
    let limited = try DocumentNormalizerRegistry.standard(
      limits: NormalizationLimits(maximumOutputCharacters: 12))
    let html = String(repeating: "<p>word</p>", count: 100_000)
    let document = try limited.normalize(DocumentInput(contentType: "text/html", text: html))

    #expect(document.blocks == [.paragraph("word"), .paragraph("word")])
    #expect(document.isTruncated)
  }

  @Test("refuses a page without text and invalid UTF-8")
  func badInput() {
    #expect(throws: DocumentError(code: .emptyDocument, message: "")) {
      try normalize("<html><head><title>Only</title></head><body><script>x</script></body>")
    }
    #expect(throws: DocumentError(code: .emptyDocument, message: "")) {
      try normalize("")
    }
    #expect(throws: DocumentError(code: .invalidUTF8, message: "")) {
      try registry.normalize(
        DocumentInput(contentType: "text/html", data: [0x3C, 0x70, 0x3E, 0x80]))
    }
  }
}
