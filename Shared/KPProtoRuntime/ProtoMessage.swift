/// A protobuf message type generated from a `.proto` file.
public protocol ProtoMessage: Sendable, Equatable {
  /// Creates a message with every field at its default.
  init()

  /// The message's full protobuf name, such as `kp.wire.v1.Envelope`.
  static var protoMessageName: String { get }

  /// The message in protobuf's binary wire format.
  func serializedBytes() -> [UInt8]

  /// Appends the message in protobuf's binary wire format to a buffer.
  ///
  /// - Parameter buffer: The buffer to append to; bytes already in it are kept.
  func appendSerialized(to buffer: inout [UInt8])

  /// Decodes a message from protobuf's binary wire format.
  ///
  /// - Parameter bytes: One whole serialized message.
  /// - Throws: ``ProtoError`` when the bytes are not a valid encoding of the message.
  init(serializedBytes bytes: [UInt8]) throws(ProtoError)

  /// Decodes a message from protobuf's binary wire format without copying the input first.
  ///
  /// - Parameter buffer: One whole serialized message.
  /// - Throws: ``ProtoError`` when the bytes are not a valid encoding of the message.
  init(serializedBytes buffer: UnsafeRawBufferPointer) throws(ProtoError)
}

/// A message whose code `kp-protogen` generated: it converts to and from a ``ProtoFields``
/// tree, and ``ProtoSchema`` moves that tree through protobuf-c.
///
/// Only generated code conforms to this protocol.
public protocol ProtoGeneratedMessage: ProtoMessage, ProtoFieldValue {
  /// The protobuf-c layout of the message.
  static var protoSchema: ProtoSchema { get }

  /// Creates the message from a decoded field tree.
  init(protoFields fields: ProtoFields) throws(ProtoError)

  /// The message as a field tree.
  func protoFields() -> ProtoFields
}

extension ProtoGeneratedMessage {
  public static var protoDefault: Self { Self() }

  public init(protoValue: ProtoValue) throws(ProtoError) {
    guard case .message(let fields) = protoValue else {
      throw ProtoError.mismatch(expected: Self.protoMessageName, found: protoValue)
    }
    try self.init(protoFields: fields)
  }

  public var protoValue: ProtoValue { .message(protoFields()) }

  public func serializedBytes() -> [UInt8] {
    Self.protoSchema.serialize(protoFields())
  }

  public func appendSerialized(to buffer: inout [UInt8]) {
    Self.protoSchema.append(protoFields(), to: &buffer)
  }

  public init(serializedBytes bytes: [UInt8]) throws(ProtoError) {
    try self.init(protoFields: Self.protoSchema.decode(bytes))
  }

  public init(serializedBytes buffer: UnsafeRawBufferPointer) throws(ProtoError) {
    try self.init(protoFields: Self.protoSchema.decode(buffer))
  }
}
