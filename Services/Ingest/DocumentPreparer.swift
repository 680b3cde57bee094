import KPDocuments
import KPProtocol

/// Turns a queued document into what the knowledge store takes: checks its fields, normalises
/// its content by type, cuts it into chunks, and refuses it with a ``DocumentRefusal`` when any
/// of that fails.
struct DocumentPreparer: Sendable {
  /// A document ready to send, with its stored size (the bytes of its text, as the knowledge
  /// store counts them for quotas) and its size on the wire.
  struct Prepared: Sendable {
    var document: Kp_Knowledge_V1_Document
    var textBytes: Int
    var wireBytes: Int
  }

  private let registry: DocumentNormalizerRegistry
  private let chunker: DocumentChunker
  private let requestLimit: Int

  /// The knowledge store's limits on a document's fields, in bytes.
  private static let fieldLimits = (title: 4_000, url: 4_000, heading: 4_000, entry: 200)

  /// Makes a preparer from the service's options.
  ///
  /// - Throws: ``DocumentError`` `invalidConfiguration` for a limit that cannot work.
  init(options: IngestOptions) throws(DocumentError) {
    registry = try DocumentNormalizerRegistry.standard(limits: options.normalization)
    chunker = try DocumentChunker(configuration: options.chunking)
    requestLimit = options.knowledgeRequestBytes
  }

  /// Prepares one upsert.
  ///
  /// - Parameters:
  ///   - input: The document as submitted.
  ///   - limit: The size limit in force for the tenant.
  /// - Returns: The document for the knowledge store, or why it is refused.
  func prepare(
    _ input: Kp_Ingest_V1_IngestDocument, limit: DocumentLimit
  ) -> Result<Prepared, DocumentRefusal> {
    do {
      return .success(try prepareOrThrow(input, limit: limit))
    } catch {
      return .failure(error)
    }
  }

  private func prepareOrThrow(
    _ input: Kp_Ingest_V1_IngestDocument, limit: DocumentLimit
  ) throws(DocumentRefusal) -> Prepared {
    try checkFields(input)
    guard input.content.count <= limit.bytes else {
      throw DocumentRefusal(
        "too_large",
        "the document is \(input.content.count) bytes, over the limit of \(limit.bytes) bytes "
          + "(\(limit.name)); split it")
    }

    var registry = registry
    registry.limits.maximumInputBytes = limit.bytes
    let normalized: NormalizedDocument
    do {
      normalized = try registry.normalize(
        DocumentInput(
          contentType: input.contentType, data: input.content,
          title: input.title.isEmpty ? nil : input.title))
    } catch {
      throw DocumentRefusal(error)
    }

    var document = Kp_Knowledge_V1_Document()
    document.source = input.source
    document.externalId = input.externalId
    document.title = Self.truncated(normalized.title, bytes: Self.fieldLimits.title)
    document.url = input.url
    document.contentType = normalized.contentType
    document.text = normalized.text
    var access = Kp_Knowledge_V1_AccessList()
    access.tenantWide = input.tenantWide
    access.users = input.users
    access.groups = input.groups
    document.access = access
    document.modifiedAtMicros = input.modifiedAtMicros
    document.attributes = input.attributes
    document.chunks = chunker.chunks(of: normalized).map { chunk in
      var piece = Kp_Knowledge_V1_DocumentChunk()
      piece.headingPath = chunk.headingPath.map {
        Self.truncated($0, bytes: Self.fieldLimits.heading)
      }
      piece.text = chunk.text
      return piece
    }

    let wireBytes = document.serializedBytes().count
    guard wireBytes + 64 <= requestLimit else {
      throw DocumentRefusal(
        "too_large",
        "normalised and chunked, the document takes \(wireBytes) bytes, more than the "
          + "\(requestLimit) bytes the knowledge store takes in one call "
          + "(knowledge-max-request-bytes); split it")
    }
    return Prepared(
      document: document, textBytes: document.text.utf8.count, wireBytes: wireBytes)
  }

  /// Checks the fields the knowledge store would refuse, so one bad document cannot fail the
  /// call that carries others.
  private func checkFields(_ input: Kp_Ingest_V1_IngestDocument) throws(DocumentRefusal) {
    func check(_ value: String, _ field: String, limit: Int) throws(DocumentRefusal) {
      guard value.utf8.count <= limit, !value.utf8.contains(0) else {
        throw DocumentRefusal(
          "invalid_document", "\(field) must be at most \(limit) bytes, without NUL characters")
      }
    }
    try check(input.title, "title", limit: Self.fieldLimits.title)
    try check(input.url, "url", limit: Self.fieldLimits.url)
    for (key, value) in input.attributes {
      try check(key, "an attribute name", limit: 200)
      try check(value, "attribute '\(key.prefix(64))'", limit: 4_000)
    }
    for entry in input.users + input.groups {
      guard !entry.isEmpty else {
        throw DocumentRefusal("invalid_document", "users and groups must not hold empty names")
      }
      try check(entry, "a user or group name", limit: Self.fieldLimits.entry)
    }
    guard input.tenantWide || !input.users.isEmpty || !input.groups.isEmpty else {
      throw DocumentRefusal(
        "missing_access",
        "the document names no reader: set tenant_wide, or give users or groups")
    }
  }

  /// Text cut to at most `bytes` bytes of UTF-8, at a character boundary.
  private static func truncated(_ text: String, bytes: Int) -> String {
    guard text.utf8.count > bytes else { return text }
    var result = ""
    var used = 0
    for character in text {
      let size = character.utf8.count
      guard used + size <= bytes else { break }
      result.append(character)
      used += size
    }
    return result
  }
}
