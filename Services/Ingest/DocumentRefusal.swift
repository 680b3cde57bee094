import KPDocuments

/// Why one document of a batch was refused: a stable code, such as `too_large`, and a message
/// a person can act on, which never repeats the document's content.
struct DocumentRefusal: Error, Sendable, Equatable {
  /// The machine-readable code reported in the job's errors.
  var code: String
  /// What is wrong and what to change.
  var message: String

  /// Makes a refusal.
  init(_ code: String, _ message: String) {
    self.code = code
    self.message = message
  }

  /// The refusal for a document the normalisers could not take.
  init(_ error: DocumentError) {
    let codes: [DocumentError.Code: String] = [
      .unsupportedContentType: "unsupported_type", .invalidUTF8: "invalid_utf8",
      .emptyDocument: "empty", .tooLarge: "too_large", .malformedDocument: "malformed",
      .encryptedDocument: "encrypted",
    ]
    self.init(codes[error.code] ?? "invalid_document", error.message)
  }

  /// The operation is neither upsert nor delete.
  static let invalidOperation = DocumentRefusal(
    "invalid_operation", "operation must be OPERATION_UPSERT or OPERATION_DELETE")
}
