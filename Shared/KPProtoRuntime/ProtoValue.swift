/// One value in a dynamic message tree.
///
/// Enum fields and every 32-bit signed integer kind (`int32`, `sint32`, `sfixed32`) are
/// `.int32`; the wire encoding comes from the schema, not from the value.
public enum ProtoValue: Sendable, Equatable {
  case bool(Bool)
  case int32(Int32)
  case int64(Int64)
  case uint32(UInt32)
  case uint64(UInt64)
  case float(Float)
  case double(Double)
  case string(String)
  case bytes([UInt8])
  case message(ProtoFields)
  /// The elements of a repeated field; a map is a list of entry messages.
  case list([ProtoValue])

  /// A short name of the value's kind, for error messages.
  public var kindName: String {
    switch self {
    case .bool: "bool"
    case .int32: "int32"
    case .int64: "int64"
    case .uint32: "uint32"
    case .uint64: "uint64"
    case .float: "float"
    case .double: "double"
    case .string: "string"
    case .bytes: "bytes"
    case .message: "message"
    case .list: "list"
    }
  }
}

extension ProtoError {
  /// A decoded value of the wrong kind for the Swift type reading it.
  @usableFromInline
  static func mismatch(expected: String, found: ProtoValue) -> ProtoError {
    ProtoError(
      code: .schemaMismatch,
      message: "expected a \(expected) value but found \(found.kindName); "
        + "regenerate with scripts/generate-protos")
  }
}
