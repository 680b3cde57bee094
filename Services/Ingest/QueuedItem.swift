import Foundation
import KPProtocol

/// One document of a submitted batch as the queue stores it: its place in the batch, its key
/// for reports, and either the document as received or the refusal decided at submit.
struct QueuedItem: Encodable, Sendable {
  /// The place in the batch, from 0.
  var o: Int
  /// `upsert`, `delete` or `invalid`.
  var op: String
  /// The source, for reports.
  var s: String
  /// The external id, for reports.
  var e: String
  /// The document as received (protobuf, base64), or nil when it was refused at submit.
  var d: Data?
  /// `pending`, or `failed` for a document refused at submit.
  var outcome: String
  /// The refusal's code, when refused.
  var code: String
  /// The refusal's message, when refused.
  var message: String

  /// The longest source and external id kept for reports, in characters.
  static let keyLimits = (source: 200, externalID: 1_000)

  /// A document of a batch, refused when `refusal` is given.
  init(ordinal: Int, document: Kp_Ingest_V1_IngestDocument, refusal: DocumentRefusal?) {
    o = ordinal
    switch document.operation {
    case .upsert: op = "upsert"
    case .delete: op = "delete"
    default: op = "invalid"
    }
    s = String(document.source.prefix(Self.keyLimits.source))
    e = String(document.externalId.prefix(Self.keyLimits.externalID))
    d = refusal == nil ? Data(document.serializedBytes()) : nil
    outcome = refusal == nil ? "pending" : "failed"
    code = refusal?.code ?? ""
    message = refusal?.message ?? ""
  }
}
