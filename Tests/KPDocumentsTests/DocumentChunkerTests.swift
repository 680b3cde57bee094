import KPDocuments
import Testing

@Suite("Chunker")
struct DocumentChunkerTests {
  func document(_ blocks: [DocumentBlock]) -> NormalizedDocument {
    NormalizedDocument(title: "T", blocks: blocks, contentType: "text/plain")
  }

  func chunks(_ text: String, maximum: Int, overlap: Int) throws -> [String] {
    let chunker = try DocumentChunker(
      configuration: .init(maximumCharacters: maximum, overlapCharacters: overlap))
    return chunker.chunks(of: document([.paragraph(text)])).map(\.text)
  }

  @Test("headings start sections; empty sections' headings go to the section above")
  func structure() throws {
    let blocks: [DocumentBlock] = [
      .heading(1, "Guide"), .paragraph("Intro."),
      .heading(2, "Install"), .paragraph("Step one."), .paragraph("Step two."),
      .heading(2, "Empty"),
      .heading(2, "Use"), .paragraph("Run it."),
      .heading(1, "Appendix"),
    ]
    let result = try DocumentChunker().chunks(of: document(blocks))

    #expect(
      result == [
        DocumentChunk(ordinal: 0, headingPath: ["Guide"], text: "Intro."),
        DocumentChunk(
          ordinal: 1, headingPath: ["Guide", "Install"], text: "Step one.\n\nStep two."),
        DocumentChunk(ordinal: 2, headingPath: ["Guide"], text: "Empty"),
        DocumentChunk(ordinal: 3, headingPath: ["Guide", "Use"], text: "Run it."),
        DocumentChunk(ordinal: 4, headingPath: [], text: "Appendix"),
      ])
  }

  @Test("text before the first heading has an empty heading path")
  func preamble() throws {
    let result = try DocumentChunker().chunks(
      of: document([.paragraph("Before."), .heading(3, "Deep"), .paragraph("After.")]))
    #expect(result.map(\.headingPath) == [[], ["Deep"]])
    #expect(result.map(\.text) == ["Before.", "After."])
  }

  @Test("paragraphs accumulate up to the cap and break at paragraph boundaries")
  func paragraphsAccumulate() throws {
    let chunker = try DocumentChunker(
      configuration: .init(maximumCharacters: 20, overlapCharacters: 0))
    let result = chunker.chunks(
      of: document([.paragraph("one two"), .paragraph("three four"), .paragraph("five six")]))
    #expect(result.map(\.text) == ["one two\n\nthree four", "five six"])
  }

  @Test("a long paragraph is cut at a sentence end, else a word end")
  func sentencesThenWords() throws {
    let text = "aaaa bbbb. cccc dddd eeee. ffff"
    #expect(try chunks(text, maximum: 20, overlap: 0) == ["aaaa bbbb.", "cccc dddd eeee. ffff"])
  }

  @Test("each further chunk repeats the previous one's end from a word's start")
  func overlap() throws {
    let text = "aaaa bbbb. cccc dddd eeee. ffff"
    #expect(
      try chunks(text, maximum: 20, overlap: 6) == [
        "aaaa bbbb.", "bbbb. cccc dddd", "dddd eeee. ffff",
      ])
  }

  @Test("a word longer than the cap is cut at the cap")
  func longWord() throws {
    let word = String(repeating: "x", count: 50)
    #expect(
      try chunks(word, maximum: 20, overlap: 0) == [
        String(repeating: "x", count: 20), String(repeating: "x", count: 20),
        String(repeating: "x", count: 10),
      ])
  }

  @Test("never splits a scalar or a letter from its combining mark")
  func unicode() throws {
    let accented = String(repeating: "e\u{301}", count: 5)
    let pieces = try chunks(accented, maximum: 5, overlap: 0)
    #expect(pieces == ["e\u{301}e\u{301}", "e\u{301}e\u{301}", "e\u{301}"])
    #expect(pieces.map { $0.unicodeScalars.count } == [4, 4, 2])

    let emoji = String(repeating: "😀", count: 25)
    let emojiPieces = try chunks(emoji, maximum: 10, overlap: 0)
    #expect(emojiPieces.map { $0.unicodeScalars.count } == [10, 10, 5])
    #expect(emojiPieces.joined() == emoji)
  }

  @Test("every chunk is under the cap, consecutive chunks overlap, and it is deterministic")
  func longDocument() throws {
    var words: [String] = []
    for index in 0..<3_000 {
      words.append("w\(index)" + (index % 11 == 10 ? "." : ""))
    }
    let text = words.joined(separator: " ")
    let chunker = try DocumentChunker()
    let doc = document([.heading(1, "H"), .paragraph(text), .paragraph(text)])
    let result = chunker.chunks(of: doc)

    #expect(result.allSatisfy { $0.text.unicodeScalars.count <= 1_500 })
    #expect(result.map(\.ordinal) == Array(0..<result.count))
    #expect(result.allSatisfy { $0.headingPath == ["H"] })
    for (previous, next) in zip(result, result.dropFirst()) {
      let firstWord = String(next.text.prefix { $0 != " " })
      #expect(previous.text.contains(firstWord))
    }
    #expect(chunker.chunks(of: doc) == result)
  }

  @Test("refuses a cap below 1 and an overlap above half the cap")
  func configuration() throws {
    let error = try #require(throws: DocumentError.self) {
      try DocumentChunker(configuration: .init(maximumCharacters: 100, overlapCharacters: 51))
    }
    #expect(error.code == .invalidConfiguration)
    #expect(
      error.message
        == "the chunk overlap is 51 characters; it must be between 0 and half the chunk size (50)")
    #expect(throws: DocumentError(code: .invalidConfiguration, message: "")) {
      try DocumentChunker(configuration: .init(maximumCharacters: 0, overlapCharacters: 0))
    }
    #expect(throws: DocumentError(code: .invalidConfiguration, message: "")) {
      try DocumentChunker(configuration: .init(maximumCharacters: 10, overlapCharacters: -1))
    }
  }
}
