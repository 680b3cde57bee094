/// A decoded message with no generated Swift type, read by field name.
///
/// Tools such as the code generator use it to read messages whose layout they learn at run
/// time; services use the generated types instead.
public struct ProtoDynamicMessage: Sendable {
  /// The message's layout.
  public let schema: ProtoSchema

  /// The message's fields.
  public var fields: ProtoFields

  /// Wraps a field tree with its schema.
  public init(schema: ProtoSchema, fields: ProtoFields) {
    self.schema = schema
    self.fields = fields
  }

  /// Decodes a serialized message.
  ///
  /// - Throws: ``ProtoError`` when the bytes are not a valid message.
  public init(schema: ProtoSchema, serializedBytes bytes: [UInt8]) throws(ProtoError) {
    self.init(schema: schema, fields: try schema.decode(bytes))
  }

  /// The value of a field by its name in the `.proto` file, or `nil` when absent or unknown.
  public subscript(name: String) -> ProtoValue? {
    guard let index = schema.fieldIndex(named: name) else { return nil }
    return fields[index]
  }

  /// A string field, empty when absent.
  public func string(_ name: String) -> String {
    if case .string(let value)? = self[name] { return value }
    return ""
  }

  /// A bool field, false when absent.
  public func bool(_ name: String) -> Bool {
    if case .bool(let value)? = self[name] { return value }
    return false
  }

  /// An integer field of any width, 0 when absent.
  public func integer(_ name: String) -> Int64 {
    switch self[name] {
    case .int32(let value)?: Int64(value)
    case .int64(let value)?: value
    case .uint32(let value)?: Int64(value)
    case .uint64(let value)?: Int64(truncatingIfNeeded: value)
    default: 0
    }
  }

  /// A repeated integer field of any width.
  public func integers(_ name: String) -> [Int64] {
    guard case .list(let items)? = self[name] else { return [] }
    return items.compactMap { item in
      switch item {
      case .int32(let value): Int64(value)
      case .int64(let value): value
      case .uint32(let value): Int64(value)
      case .uint64(let value): Int64(truncatingIfNeeded: value)
      default: nil
      }
    }
  }

  /// A repeated string field.
  public func strings(_ name: String) -> [String] {
    guard case .list(let items)? = self[name] else { return [] }
    return items.compactMap { item in
      if case .string(let value) = item { return value }
      return nil
    }
  }

  /// A singular message field, `nil` when absent.
  public func message(_ name: String) -> ProtoDynamicMessage? {
    guard let index = schema.fieldIndex(named: name), let nested = schema.messageSchema(at: index),
      case .message(let value)? = fields[index]
    else { return nil }
    return ProtoDynamicMessage(schema: nested, fields: value)
  }

  /// A repeated message field.
  public func messages(_ name: String) -> [ProtoDynamicMessage] {
    guard let index = schema.fieldIndex(named: name), let nested = schema.messageSchema(at: index),
      case .list(let items)? = fields[index]
    else { return [] }
    return items.compactMap { item in
      if case .message(let value) = item {
        return ProtoDynamicMessage(schema: nested, fields: value)
      }
      return nil
    }
  }
}
