import KPDocuments
import KPProtocol

/// A document of an upsert request, checked and made ready to store: its content hash, its
/// chunks and its size computed here, never taken from the caller.
struct PreparedDocument: Sendable {
  /// One chunk as the chunk insert reads it from JSON.
  struct Chunk: Codable, Sendable {
    /// The heading path.
    var h: [String]
    /// The headings joined, for the index.
    var s: String
    /// The body text.
    var t: String
  }

  let source: String
  let externalID: String
  let title: String
  let url: String
  let contentType: String
  let text: String
  /// The access list given, normalised (sorted, unique) and admitting someone; `nil` keeps the
  /// stored one.
  let access: (tenantWide: Bool, users: [String], groups: [String])?
  let attributes: [String: String]
  /// Microseconds since the Unix epoch; `nil` when unknown.
  let modifiedAtMicros: Int64?
  let contentHash: ContentHash
  let bytes: Int
  let chunks: [Chunk]

  /// The most documents one upsert may carry.
  static let maximumBatch = 1_000

  /// Checks a document of a request and prepares it.
  ///
  /// - Throws: ``KnowledgeError`` `invalidArgument` naming the document and the field.
  init(_ document: Kp_Knowledge_V1_Document) throws(KnowledgeError) {
    let name = "document '\(document.source.prefix(64))/\(document.externalId.prefix(128))'"
    func check(_ value: String, _ field: String, limit: Int, required: Bool = false)
      throws(KnowledgeError)
    {
      if required && value.isEmpty {
        throw KnowledgeError(.invalidArgument, "\(name): \(field) is required")
      }
      if value.utf8.count > limit {
        throw KnowledgeError(
          .invalidArgument, "\(name): \(field) is longer than \(limit) bytes")
      }
      if value.utf8.contains(0) {
        throw KnowledgeError(.invalidArgument, "\(name): \(field) contains a NUL character")
      }
    }
    try check(document.source, "source", limit: 200, required: true)
    try check(document.externalId, "external_id", limit: 1_000, required: true)
    try check(document.title, "title", limit: 4_000)
    try check(document.url, "url", limit: 4_000)
    try check(document.contentType, "content_type", limit: 200)
    try check(document.text, "text", limit: 64 << 20)
    for (key, value) in document.attributes {
      try check(key, "an attribute name", limit: 200)
      try check(value, "attribute '\(key.prefix(64))'", limit: 4_000)
    }
    if let access = document.access {
      for entry in access.users + access.groups {
        try check(entry, "the access list", limit: 200, required: true)
      }
      guard access.tenantWide || !access.users.isEmpty || !access.groups.isEmpty else {
        throw KnowledgeError(
          .invalidArgument,
          "\(name): the access list admits no one; set tenant_wide, or name users or groups")
      }
      self.access = (
        access.tenantWide, Array(Set(access.users)).sorted(), Array(Set(access.groups)).sorted()
      )
    } else {
      self.access = nil
    }
    for chunk in document.chunks {
      try check(chunk.text, "a chunk's text", limit: 1 << 20)
      for heading in chunk.headingPath { try check(heading, "a chunk's heading", limit: 4_000) }
    }

    source = document.source
    externalID = document.externalId
    title = document.title
    url = document.url
    contentType = document.contentType
    text = document.text
    attributes = document.attributes
    modifiedAtMicros = document.modifiedAtMicros == 0 ? nil : document.modifiedAtMicros
    contentHash = ContentHash(title: document.title, text: document.text)
    bytes = document.text.utf8.count

    var chunks = document.chunks.map { chunk in
      Chunk(h: chunk.headingPath, s: chunk.headingPath.joined(separator: "\n"), t: chunk.text)
    }
    if chunks.isEmpty {
      chunks = Self.paragraphChunks(document.text)
    }
    // The title is indexed with every chunk: a document without text still has one chunk.
    self.chunks = chunks.isEmpty ? [Chunk(h: [], s: "", t: "")] : chunks
  }

  /// Cuts text without structure at blank lines into chunks of the chunker's default size.
  private static func paragraphChunks(_ text: String) -> [Chunk] {
    let blocks = text.split(separator: "\n\n").map { DocumentBlock.paragraph(String($0)) }
    let normalized = NormalizedDocument(title: "", blocks: blocks, contentType: "text/plain")
    guard let chunker = try? DocumentChunker() else { return [] }
    return chunker.chunks(of: normalized).map { Chunk(h: $0.headingPath, s: "", t: $0.text) }
  }
}
