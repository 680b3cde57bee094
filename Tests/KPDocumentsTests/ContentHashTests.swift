import KPDocuments
import Testing

@Suite("Content hash")
struct ContentHashTests {
  @Test("is the SHA-256 of the title's length, the title and the text")
  func knownValues() {
    #expect(
      ContentHash(title: "", text: "abc").hex
        == "f3652e4ce938bb9965f62c3ca4d8f69301a6c85b1e86eac67e291152d3c0e3dd")
    #expect(
      ContentHash(title: "Title", text: "Body text").hex
        == "f02a96d9770dd5e7912c8b35cf87ceab70255f4a99d80807a996ef8499f07fb1")
    #expect(ContentHash(title: "", text: "abc").bytes.count == 32)
  }

  @Test("keeps the title and the text apart")
  func boundary() {
    let first = ContentHash(title: "ab", text: "c")
    let second = ContentHash(title: "a", text: "bc")
    #expect(first.hex == "290a3daa9b49526a2ed7352cd7f5e69c551a01e15de61fc04c43f780d7172b71")
    #expect(second.hex == "e98bc483cc6af9ccf82bc23e481a128c12818251d9d359a7b560dcabfd7909d6")
    #expect(first != second)
  }

  @Test("is the same for the same normalised content in another format")
  func acrossFormats() throws {
    let registry = try DocumentNormalizerRegistry.standard()
    let plain = try registry.normalize(
      DocumentInput(contentType: "text/plain", text: "Hello  world\n\nBye", title: "T"))
    let html = try registry.normalize(
      DocumentInput(
        contentType: "text/html", text: "<p>Hello <b>world</b></p><p>Bye</p>", title: "T"))
    let changed = try registry.normalize(
      DocumentInput(contentType: "text/plain", text: "Hello world\n\nBye!", title: "T"))

    #expect(plain.contentHash == html.contentHash)
    #expect(plain.contentHash.hex == ContentHash(title: "T", text: "Hello world\n\nBye").hex)
    #expect(plain.contentHash != changed.contentHash)
  }
}
