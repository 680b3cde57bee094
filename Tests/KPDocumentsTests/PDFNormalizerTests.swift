import KPDocuments
import Testing

@Suite("PDF normaliser")
struct PDFNormalizerTests {
  let registry = try! DocumentNormalizerRegistry.standard()

  @Test("extracts the text of each page, each block knowing its page")
  func textPerPage() throws {
    let pdf = PDFFixture.document(pages: [
      ["Quarterly report", "Revenue grew in every region."], ["Second page text."],
    ])
    let document = try registry.normalize(
      DocumentInput(contentType: "application/pdf", data: pdf))

    #expect(
      document.blocks == [
        .paragraph("Quarterly report Revenue grew in every region.", page: 1),
        .paragraph("Second page text.", page: 2),
      ])
    #expect(
      document.text == "Quarterly report Revenue grew in every region.\n\nSecond page text.")
    #expect(document.title == "")
    #expect(document.contentType == "application/pdf")
    #expect(!document.isTruncated)
  }

  @Test("takes the title from the metadata unless the source gives one")
  func title() throws {
    let pdf = PDFFixture.document(pages: [["Body"]], title: "Annual Plan")
    let fromMetadata = try registry.normalize(
      DocumentInput(contentType: "application/pdf", data: pdf))
    let fromSource = try registry.normalize(
      DocumentInput(contentType: "application/pdf", data: pdf, title: "Given"))

    #expect(fromMetadata.title == "Annual Plan")
    #expect(fromSource.title == "Given")
  }

  @Test("stops at the page limit and marks the document truncated")
  func pageLimit() throws {
    let pdf = PDFFixture.document(pages: [["One"], ["Two"], ["Three"]])
    let limited = try DocumentNormalizerRegistry.standard(
      limits: NormalizationLimits(maximumPDFPages: 2))
    let document = try limited.normalize(DocumentInput(contentType: "application/pdf", data: pdf))

    #expect(document.text == "One\n\nTwo")
    #expect(document.isTruncated)
  }

  @Test("refuses a file that is not a PDF at all")
  func garbage() {
    let garbage = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }
    #expect(throws: DocumentError(code: .malformedDocument, message: "")) {
      try registry.normalize(DocumentInput(contentType: "application/pdf", data: garbage))
    }
  }

  @Test("refuses a PDF header followed by garbage")
  func headerThenGarbage() {
    let data = Array("%PDF-1.7\n".utf8) + Array(repeating: 0x41, count: 2048)
    #expect(throws: DocumentError(code: .malformedDocument, message: "")) {
      try registry.normalize(DocumentInput(contentType: "application/pdf", data: data))
    }
  }

  @Test("refuses a PDF cut short anywhere, naming the damage", arguments: 1...9)
  func truncated(tenths: Int) throws {
    let pdf = PDFFixture.document(pages: [["Alpha beta"], ["Gamma delta"]])
    let cut = Array(pdf.prefix(pdf.count * tenths / 10))
    let error = try #require(throws: DocumentError.self) {
      try registry.normalize(DocumentInput(contentType: "application/pdf", data: cut))
    }

    #expect(error.code == .malformedDocument)
    #expect(
      error.message
        == "the PDF cannot be read (PDF document is damaged); it may be damaged or truncated")
  }

  @Test("refuses an empty file and a file cut right after its header")
  func tooShort() {
    for data in [[UInt8](), Array("%PDF-1.4\n".utf8)] {
      #expect(throws: DocumentError(code: .malformedDocument, message: "")) {
        try registry.normalize(DocumentInput(contentType: "application/pdf", data: data))
      }
    }
  }

  @Test("a PDF whose pages have no text is empty")
  func noText() {
    let pdf = PDFFixture.document(pages: [[]])
    #expect(throws: DocumentError(code: .emptyDocument, message: "")) {
      try registry.normalize(DocumentInput(contentType: "application/pdf", data: pdf))
    }
  }
}
