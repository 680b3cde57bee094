/// An error from encoding or decoding a protobuf message.
///
/// Two errors are equal when their codes are; the message is for people.
public struct ProtoError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What kind of failure happened. New codes may be added; switch with a `default`.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    /// A short stable name, such as `malformed`.
    public let rawValue: String

    /// Creates a code from its stable name.
    public init(_ rawValue: String) {
      self.rawValue = rawValue
    }

    public var description: String { rawValue }

    /// The bytes are not a valid encoding of the message: truncated, a field with the wrong
    /// wire type, a length beyond the end of the buffer, or similar.
    public static let malformed = Code("malformed")

    /// A string field holds bytes that are not valid UTF-8.
    public static let invalidUTF8 = Code("invalid_utf8")

    /// The message type is not known to the protobuf-c registry.
    public static let unknownMessage = Code("unknown_message")

    /// A decoded value does not have the shape the generated code expects; the generated
    /// Swift and C code are out of step (run `scripts/generate-protos`).
    public static let schemaMismatch = Code("schema_mismatch")
  }

  /// What kind of failure happened.
  public var code: Code

  /// What went wrong and, where it helps, what to do about it.
  public var message: String

  /// Creates an error.
  public init(code: Code, message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { "\(code): \(message)" }

  public static func == (lhs: ProtoError, rhs: ProtoError) -> Bool {
    lhs.code == rhs.code
  }
}
