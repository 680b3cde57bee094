/// A document read before the run: its id for reads and its words for queries.
struct SampledDocument: Sendable, Equatable {
  /// The document's id.
  var id: String
  /// The title and text, never logged.
  var text: String
}
