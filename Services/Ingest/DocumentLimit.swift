/// The size limit a document is held to: the smaller of the configured cap and the tenant's
/// plan, with the name of the one that applies, for messages.
struct DocumentLimit: Sendable, Equatable {
  /// The largest document accepted, in bytes.
  var bytes: Int
  /// Which limit this is: `ingest-max-document-bytes` or the plan's `max_document_bytes`.
  var name: String

  /// The stricter of the two limits; nil when neither is positive.
  static func strictest(configured: Int, plan: Int) -> DocumentLimit? {
    let candidates = [
      DocumentLimit(bytes: configured, name: "ingest-max-document-bytes"),
      DocumentLimit(bytes: plan, name: "quota max_document_bytes of the tenant's plan"),
    ].filter { $0.bytes > 0 }
    return candidates.min { $0.bytes < $1.bytes }
  }
}
