/// One kind of request the driver sends.
enum LoadOperation: String, Sendable, CaseIterable, Comparable {
  /// A full-text search for a term taken from the tenant's documents.
  case search
  /// A read of a document by an id seen in search results.
  case get
  /// A batch of one small generated document, with an idempotency key.
  case ingest

  static func < (lhs: LoadOperation, rhs: LoadOperation) -> Bool {
    allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
  }
}
