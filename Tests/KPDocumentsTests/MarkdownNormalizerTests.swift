import KPDocuments
import Testing

@Suite("Markdown normaliser")
struct MarkdownNormalizerTests {
  let registry = try! DocumentNormalizerRegistry.standard()

  @Test("keeps headings as headings and the text of paragraphs, lists, code and tables")
  func structure() throws {
    let markdown = """
      # Guide

      Intro *text* with `code` and a [link](http://example.com)
      across two lines.

      ## Install

      - step one
      - step **two**

      ```swift
      let x = 1
      ```

      | a | b |
      |---|---|
      | 1 | 2 |

      <div>raw html</div>

      Setext heading
      --------------
      """
    let document = try registry.normalize(
      DocumentInput(contentType: "text/markdown", text: markdown))

    #expect(
      document.blocks == [
        .heading(1, "Guide"),
        .paragraph("Intro text with code and a link across two lines."),
        .heading(2, "Install"),
        .paragraph("step one"),
        .paragraph("step two"),
        .paragraph("let x = 1"),
        .paragraph("a b"),
        .paragraph("1 2"),
        .heading(2, "Setext heading"),
      ])
    #expect(document.title == "Guide")
    #expect(document.contentType == "text/markdown")
  }

  @Test("prefers the source's title to the first heading")
  func sourceTitle() throws {
    let document = try registry.normalize(
      DocumentInput(contentType: "text/x-markdown", text: "# Heading\n\nBody", title: "Given"))
    #expect(document.title == "Given")
  }

  @Test("survives 100,000 nested block quotes")
  func deepBlockQuotes() throws {
    let markdown = String(repeating: ">", count: 100_000) + " deep"
    let document = try registry.normalize(
      DocumentInput(contentType: "text/markdown", text: markdown))
    #expect(document.blocks == [.paragraph("deep")])
  }

  @Test("survives 50,000 unmatched link openers")
  func unmatchedBrackets() throws {
    let markdown = String(repeating: "[", count: 50_000) + "x"
    let document = try registry.normalize(
      DocumentInput(contentType: "text/markdown", text: markdown))
    #expect(document.text == markdown)
  }

  @Test("refuses invalid UTF-8 and a document of only raw HTML")
  func badInput() {
    #expect(throws: DocumentError(code: .invalidUTF8, message: "")) {
      try registry.normalize(DocumentInput(contentType: "text/markdown", data: [0x23, 0x20, 0xFE]))
    }
    #expect(throws: DocumentError(code: .emptyDocument, message: "")) {
      try registry.normalize(
        DocumentInput(contentType: "text/markdown", text: "<!-- nothing -->\n\n---\n"))
    }
  }
}
