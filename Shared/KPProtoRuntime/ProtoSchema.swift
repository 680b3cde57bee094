internal import CProtobufC

/// The protobuf-c layout of one message type: where each field lives in the C struct that
/// protobuf-c packs and unpacks, read once from the message's `ProtobufCMessageDescriptor`.
///
/// A schema is immutable once ``resolve(_:name:fieldNumbers:)`` returns it, so it is safe to
/// share between threads. Generated code keeps one per message type in a `static let`.
public final class ProtoSchema: @unchecked Sendable {
  /// The message's full protobuf name, such as `kp.wire.v1.Envelope`.
  public let fullName: String

  let descriptor: UnsafePointer<ProtobufCMessageDescriptor>
  let messageSize: Int

  // Written only while the schema graph is being built, before any other code sees it.
  private(set) var layouts: [FieldLayout] = []
  private var indexByName: [String: Int] = [:]
  /// The schemas of the message-typed fields, which the layouts refer to without owning them:
  /// a layout holds no reference counted value, so reading one costs no retain and release.
  private var nestedSchemas: [ProtoSchema] = []

  private init(descriptor: UnsafePointer<ProtobufCMessageDescriptor>) {
    self.descriptor = descriptor
    self.fullName = String(cString: descriptor.pointee.name)
    self.messageSize = descriptor.pointee.sizeof_message
  }

  /// The schema of a message, from its protobuf-c descriptor.
  ///
  /// A missing descriptor, a different name or different field numbers mean the generated
  /// Swift and C code are out of step, a build defect rather than bad input, so this stops
  /// the program with a message that says to regenerate.
  ///
  /// - Parameters:
  ///   - descriptor: A `const ProtobufCMessageDescriptor *`, or `nil` when the lookup failed.
  ///   - name: The message's full protobuf name.
  ///   - fieldNumbers: The field numbers the generated code expects, in ascending order.
  public static func resolve(
    _ descriptor: UnsafeRawPointer?, name: String, fieldNumbers: [Int]
  ) -> ProtoSchema {
    guard let descriptor else {
      fatalError("no protobuf-c descriptor for \(name); run scripts/generate-protos")
    }
    let schema = build(descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self))
    let numbers = schema.layouts.map { Int($0.number) }
    guard schema.fullName == name, numbers == fieldNumbers else {
      fatalError(
        "protobuf-c descriptor \(schema.fullName) \(numbers) does not match the Swift type "
          + "for \(name) \(fieldNumbers); run scripts/generate-protos")
    }
    return schema
  }

  /// The schema of a message from its descriptor, with no expectations to check; used by
  /// tools that read messages they have no generated type for.
  ///
  /// - Parameter descriptor: A `const ProtobufCMessageDescriptor *`.
  public static func dynamic(_ descriptor: UnsafeRawPointer) -> ProtoSchema {
    build(descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self))
  }

  /// Builds the schema of a message and of every message reachable from it, once each, so
  /// that recursive message types end up as a graph rather than an endless tree.
  private static func build(_ root: UnsafePointer<ProtobufCMessageDescriptor>) -> ProtoSchema {
    var built: [UnsafeRawPointer: ProtoSchema] = [:]
    func visit(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> ProtoSchema {
      if let existing = built[UnsafeRawPointer(descriptor)] { return existing }
      let schema = ProtoSchema(descriptor: descriptor)
      built[UnsafeRawPointer(descriptor)] = schema
      let count = Int(descriptor.pointee.n_fields)
      for index in 0..<count {
        let field = descriptor.pointee.fields[index]
        var nested: ProtoSchema?
        if field.type == PROTOBUF_C_TYPE_MESSAGE {
          let child = visit(
            field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self))
          schema.nestedSchemas.append(child)
          nested = child
        }
        let layout = FieldLayout(field, nested: nested)
        schema.indexByName[layout.name] = index
        schema.layouts.append(layout)
      }
      return schema
    }
    return visit(root)
  }

  // MARK: Introspection

  /// How many fields the message declares.
  public var fieldCount: Int { layouts.count }

  /// The index of the field with a given name in the `.proto` file, such as `call_id`.
  public func fieldIndex(named name: String) -> Int? {
    indexByName[name]
  }

  /// The name in the `.proto` file of the field at an index.
  public func fieldName(at index: Int) -> String {
    layouts[index].name
  }

  /// The field number of the field at an index.
  public func fieldNumber(at index: Int) -> Int {
    Int(layouts[index].number)
  }

  /// The schema of the message-typed field at an index, or `nil` for other fields.
  public func messageSchema(at index: Int) -> ProtoSchema? {
    layouts[index].nested
  }
}

/// Where one field lives in a protobuf-c message struct and how it is stored.
struct FieldLayout {
  enum Kind {
    case bool, int32, int64, uint32, uint64, float, double, string, bytes, message
  }

  enum Presence {
    /// proto3 implicit presence: the value is always there; a default is not sent.
    case implicit
    /// A `has_` flag at the quantifier offset says whether the value is set.
    case flagged
    /// A pointer that is NULL when the value is not set (strings and messages).
    case pointer
    /// A count at the quantifier offset and an array pointer at the offset.
    case repeated
  }

  /// The field's name in the `.proto` file, in the descriptor's memory, which outlives the
  /// schema.
  private let namePointer: UnsafePointer<CChar>
  let number: UInt32
  let kind: Kind
  let presence: Presence
  let isOneof: Bool
  let offset: Int
  let quantifierOffset: Int
  let stride: Int
  /// The schema of a message-typed field; its parent schema keeps it alive.
  unowned(unsafe) let nested: ProtoSchema?

  /// The field's name in the `.proto` file.
  var name: String { String(cString: namePointer) }

  init(_ field: ProtobufCFieldDescriptor, nested: ProtoSchema?) {
    namePointer = field.name
    number = field.id
    offset = Int(field.offset)
    quantifierOffset = Int(field.quantifier_offset)
    isOneof = field.flags & UInt32(PROTOBUF_C_FIELD_FLAG_ONEOF.rawValue) != 0
    self.nested = nested

    switch field.type {
    case PROTOBUF_C_TYPE_BOOL: (kind, stride) = (.bool, MemoryLayout<protobuf_c_boolean>.stride)
    case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32,
      PROTOBUF_C_TYPE_ENUM:
      (kind, stride) = (.int32, 4)
    case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64:
      (kind, stride) = (.int64, 8)
    case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32: (kind, stride) = (.uint32, 4)
    case PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64: (kind, stride) = (.uint64, 8)
    case PROTOBUF_C_TYPE_FLOAT: (kind, stride) = (.float, 4)
    case PROTOBUF_C_TYPE_DOUBLE: (kind, stride) = (.double, 8)
    case PROTOBUF_C_TYPE_STRING: (kind, stride) = (.string, MemoryLayout<UnsafeRawPointer>.stride)
    case PROTOBUF_C_TYPE_BYTES: (kind, stride) = (.bytes, MemoryLayout<ProtobufCBinaryData>.stride)
    default: (kind, stride) = (.message, MemoryLayout<UnsafeRawPointer>.stride)
    }

    switch field.label {
    case PROTOBUF_C_LABEL_REPEATED: presence = .repeated
    case PROTOBUF_C_LABEL_OPTIONAL:
      presence = kind == .string || kind == .message ? .pointer : .flagged
    case PROTOBUF_C_LABEL_REQUIRED: presence = .pointer
    default: presence = kind == .message ? .pointer : .implicit
    }
  }
}
