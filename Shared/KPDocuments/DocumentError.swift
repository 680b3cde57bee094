/// A document that cannot be normalised: its type is not supported, its bytes are not what its
/// type promises, it is too large, or nothing is left of it once normalised.
///
/// Each error concerns one document; the rest of a batch can go on. The ``message`` names the
/// problem and what to change, and never repeats the document's content. Errors compare equal
/// when their codes are equal.
public struct DocumentError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What kind of problem this is. New codes may be added; match with `==`, not exhaustively.
  public struct Code: Sendable, Hashable, CustomStringConvertible {
    private let name: String

    private init(_ name: String) {
      self.name = name
    }

    /// No normaliser is registered for the content type, or its charset is not UTF-8
    /// (HTTP's 415 Unsupported Media Type).
    public static let unsupportedContentType = Code("unsupportedContentType")
    /// A text document's bytes are not valid UTF-8.
    public static let invalidUTF8 = Code("invalidUTF8")
    /// Nothing searchable is left once the document is normalised.
    public static let emptyDocument = Code("emptyDocument")
    /// The document is larger than the configured limit; it was refused before parsing.
    public static let tooLarge = Code("tooLarge")
    /// The document does not follow its format (a damaged or truncated PDF, say).
    public static let malformedDocument = Code("malformedDocument")
    /// The document is encrypted with a password and cannot be read.
    public static let encryptedDocument = Code("encryptedDocument")
    /// A setting (a limit, a chunk size) has a value that cannot work.
    public static let invalidConfiguration = Code("invalidConfiguration")

    /// The code's name, such as `tooLarge`.
    public var description: String { name }
  }

  /// What kind of problem this is.
  public var code: Code

  /// A description a person can act on; it never contains the document's text.
  public var message: String

  /// Creates an error.
  ///
  /// - Parameters:
  ///   - code: What kind of problem this is.
  ///   - message: A description a person can act on.
  public init(code: Code, message: String) {
    self.code = code
    self.message = message
  }

  public static func == (lhs: DocumentError, rhs: DocumentError) -> Bool {
    lhs.code == rhs.code
  }

  /// The code and the message.
  public var description: String { "\(code): \(message)" }
}
