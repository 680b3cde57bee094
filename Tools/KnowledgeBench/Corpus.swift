import Foundation
import KPDocuments
import KPProtocol

/// The benches' real text: the PostgreSQL HTML documentation, normalised and chunked as ingest
/// does it, and a larger mix built from it.
struct Corpus: Sendable {
  /// The documents, ready for `UpsertDocuments`.
  var documents: [Kp_Knowledge_V1_Document]

  /// The normalised text's size in bytes (titles and texts).
  var textBytes: Int {
    documents.reduce(0) { $0 + $1.title.utf8.count + $1.text.utf8.count }
  }

  /// How many chunks the documents hold.
  var chunkCount: Int { documents.reduce(0) { $0 + $1.chunks.count } }

  /// Reads every `.html` page of a directory, in name order.
  ///
  /// One page in ten is for the group `eng`, one in ten for `hr`, the rest for the whole tenant.
  static func load(directory: String) throws -> Corpus {
    let registry = try DocumentNormalizerRegistry.standard()
    let chunker = try DocumentChunker()
    let names = try FileManager.default.contentsOfDirectory(atPath: directory)
      .filter { $0.hasSuffix(".html") }.sorted()
    var documents: [Kp_Knowledge_V1_Document] = []
    for (index, name) in names.enumerated() {
      let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
      let normalized = try registry.normalize(
        DocumentInput(contentType: "text/html", data: [UInt8](data)))
      var document = Kp_Knowledge_V1_Document()
      document.source = "pgdocs"
      document.externalId = name
      document.title = normalized.title
      document.url = "https://www.postgresql.org/docs/15/" + name
      document.contentType = "text/html"
      document.text = normalized.text
      document.access = access(index)
      document.chunks = chunker.chunks(of: normalized).map { chunk in
        var message = Kp_Knowledge_V1_DocumentChunk()
        message.headingPath = chunk.headingPath
        message.text = chunk.text
        return message
      }
      documents.append(document)
    }
    return Corpus(documents: documents)
  }

  /// The access list of the page at `index`.
  static func access(_ index: Int) -> Kp_Knowledge_V1_AccessList {
    var access = Kp_Knowledge_V1_AccessList()
    switch index % 10 {
    case 8: access.groups = ["eng"]
    case 9: access.groups = ["hr"]
    default: access.tenantWide = true
    }
    return access
  }

  /// The documents plus `variants` new documents per page, each interleaving the page's chunks
  /// with those of another page: the same vocabulary in new combinations, as a wiki that
  /// quotes and rearranges its manual would hold.
  func mixed(variants: Int) -> Corpus {
    let count = documents.count
    var mix = documents
    for variant in 1...max(1, variants) {
      for (index, page) in documents.enumerated() {
        let other = documents[(index * 31 + variant * 7_919) % count]
        var document = Kp_Knowledge_V1_Document()
        document.source = "mix-\(variant)"
        document.externalId = "\(variant)/\(page.externalId)"
        document.title = page.title + " and " + other.title
        document.url = page.url + "#mix-\(variant)"
        document.contentType = "text/html"
        document.access = Corpus.access(index + variant)
        var chunks: [Kp_Knowledge_V1_DocumentChunk] = []
        for position in 0..<max(page.chunks.count, other.chunks.count) {
          if position < page.chunks.count { chunks.append(page.chunks[position]) }
          if position < other.chunks.count { chunks.append(other.chunks[position]) }
        }
        document.chunks = chunks
        document.text = chunks.map(\.text).joined(separator: "\n\n")
        mix.append(document)
      }
    }
    return Corpus(documents: mix)
  }

  /// Writes one JSON object a line per chunk (`doc`, `title`, `headings`, `text`), in document
  /// order, for the peer that indexes the same text.
  func writeChunks(to path: String) throws {
    struct Line: Encodable {
      var doc: String
      var title: String
      var headings: String
      var text: String
    }
    let encoder = JSONEncoder()
    var output = Data()
    for document in documents {
      let key = document.source + "/" + document.externalId
      for chunk in document.chunks {
        let line = Line(
          doc: key, title: document.title,
          headings: chunk.headingPath.joined(separator: "\n"), text: chunk.text)
        output.append(try encoder.encode(line))
        output.append(0x0A)
      }
    }
    try output.write(to: URL(fileURLWithPath: path))
  }
}
