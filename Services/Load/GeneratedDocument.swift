import Foundation

/// A small document the ingest operation submits: words drawn from the query terms, so later
/// searches can find it too.
struct GeneratedDocument: Sendable, Equatable {
  /// The source every generated document carries.
  static let source = "kp-load"

  /// The external id, unique per run, worker and request.
  var externalID: String
  /// A title of a few words.
  var title: String
  /// A paragraph of words.
  var text: String

  /// Makes a document from terms with a generator.
  ///
  /// - Parameters:
  ///   - externalID: The document's external id.
  ///   - terms: The words to draw from; a fixed vocabulary when empty.
  ///   - generator: The worker's generator.
  static func make(
    externalID: String, terms: [String], using generator: inout SeededGenerator
  ) -> GeneratedDocument {
    let words = terms.isEmpty ? TermExtractor.fallbackVocabulary : terms
    func phrase(_ count: Int) -> String {
      (0..<count).map { _ in words[Int.random(in: 0..<words.count, using: &generator)] }
        .joined(separator: " ")
    }
    return GeneratedDocument(
      externalID: externalID, title: phrase(4).capitalized, text: phrase(40) + ".")
  }
}
