/// Writes the Swift file for one `.proto` file.
struct SwiftEmitter {
  let file: ProtoFileModel
  let index: TypeIndex
  let generated: Set<String>
  let header: [String]

  private var lines: [String] = []

  /// Member names of generated messages that a field must not take.
  private static let reservedFieldNames: Set<String> = [
    "protoFields", "protoValue", "protoDefault", "protoSchema", "protoMessageName",
    "serializedBytes", "appendSerialized",
  ]

  /// Member names of generated enums that a value must not take.
  private static let reservedValueNames: Set<String> = [
    "rawValue", "description", "knownValues", "protoValue", "protoDefault", "hashValue",
  ]

  init(file: ProtoFileModel, index: TypeIndex, generated: Set<String>, header: [String]) {
    self.file = file
    self.index = index
    self.generated = generated
    self.header = header
  }

  /// The whole file's text.
  mutating func emit() throws(GeneratorError) -> String {
    lines = header
    lines.append("")
    lines.append("public import KPProtoRuntime")
    lines.append("internal import KPProtoC")
    let prefix = Naming.typePrefix(package: file.package)
    for enumeration in file.enums {
      lines.append("")
      try emitEnum(enumeration, swiftName: prefix + enumeration.name, indent: "")
    }
    for message in file.messages {
      lines.append("")
      try emitMessage(message, swiftName: prefix + message.name, indent: "")
    }
    for service in file.services {
      lines.append("")
      try emitService(service, swiftName: prefix + service.name)
    }
    return lines.joined(separator: "\n") + "\n"
  }

  private static func orDefault(_ comment: String, _ fallback: String) -> String {
    comment.isEmpty ? fallback : comment
  }

  private static func fieldComment(_ field: FieldModel) -> String {
    orDefault(field.comment, "The `\(field.name)` field (\(field.number)).")
  }

  // MARK: Enums

  private mutating func emitEnum(
    _ enumeration: EnumModel, swiftName: String, indent: String
  ) throws(GeneratorError) {
    let inner = indent + "  "
    let typeName = String(swiftName.split(separator: ".").last!)
    lines += Naming.docComment(
      Self.orDefault(enumeration.comment, "The `\(enumeration.fullName)` enum."), indent: indent)
    lines.append("\(indent)public struct \(typeName): ProtoEnum, CustomStringConvertible {")
    lines.append("\(inner)/// The value's number on the wire.")
    lines.append("\(inner)public var rawValue: Int32")
    lines.append("")
    lines.append(
      "\(inner)/// Creates the value with a number, named in this version of the protocol or not.")
    lines.append("\(inner)public init(rawValue: Int32) {")
    lines.append("\(inner)  self.rawValue = rawValue")
    lines.append("\(inner)}")
    lines.append("")
    lines.append("\(inner)/// Creates the value numbered 0, the default.")
    lines.append("\(inner)public init() {")
    lines.append("\(inner)  self.rawValue = 0")
    lines.append("\(inner)}")

    var names: [String] = []
    for value in enumeration.values {
      let name = Self.swiftValueName(value.name, enumName: enumeration.name)
      guard !Self.reservedValueNames.contains(name), !names.contains(name) else {
        throw GeneratorError(
          code: "name_collision",
          message: "enum value \(enumeration.fullName).\(value.name) becomes Swift name "
            + "\(name), which is taken; rename the value")
      }
      names.append(name)
      lines.append("")
      lines += Naming.docComment(
        Self.orDefault(value.comment, "`\(value.name)` (\(value.number))."), indent: inner)
      lines.append(
        "\(inner)public static let \(Naming.escaped(name)) = Self(rawValue: \(value.number))")
    }

    lines.append("")
    lines.append(
      "\(inner)/// Every value this version of the protocol names, in declaration order.")
    lines.append("\(inner)public static let knownValues: [Self] = [")
    for name in names {
      lines.append("\(inner)  .\(Naming.escaped(name)),")
    }
    lines.append("\(inner)]")
    lines.append("")
    lines.append(
      "\(inner)/// The value's name in the `.proto` file, or its number when it has none.")
    lines.append("\(inner)public var description: String {")
    lines.append("\(inner)  switch rawValue {")
    var seen: Set<Int32> = []
    for value in enumeration.values where seen.insert(value.number).inserted {
      lines.append("\(inner)  case \(value.number): \"\(value.name)\"")
    }
    lines.append("\(inner)  default: String(rawValue)")
    lines.append("\(inner)  }")
    lines.append("\(inner)}")
    lines.append("\(indent)}")
  }

  /// `DEADLINE_EXCEEDED` of `StatusCode` becomes `deadlineExceeded`; `TENANT_STATE_ACTIVE` of
  /// `TenantState` becomes `active`.
  static func swiftValueName(_ name: String, enumName: String) -> String {
    var stripped = name
    let prefix = Naming.upperSnake(enumName) + "_"
    if name.hasPrefix(prefix), name.count > prefix.count,
      let next = name.dropFirst(prefix.count).first, !next.isNumber
    {
      stripped = String(name.dropFirst(prefix.count))
    }
    return Naming.lowerCamel(stripped, lowercasing: true)
  }

  // MARK: Messages

  private struct FieldPlan {
    var field: FieldModel
    var index: Int
    var property: String
    /// How the field is read from and written to the tree.
    var read: String
    var write: String
    var swiftType: String
    var defaultValue: String?
  }

  private func elementType(_ field: FieldModel, context: String) throws(GeneratorError) -> String {
    switch field.type {
    case .double: return "Double"
    case .float: return "Float"
    case .int64, .sint64, .sfixed64: return "Int64"
    case .uint64, .fixed64: return "UInt64"
    case .int32, .sint32, .sfixed32: return "Int32"
    case .uint32, .fixed32: return "UInt32"
    case .bool: return "Bool"
    case .string: return "String"
    case .bytes: return "[UInt8]"
    case .message, .enum:
      return try index.lookup(field.typeName, from: context, generated: generated).swiftName
    case .group:
      throw GeneratorError(
        code: "unsupported_field", message: "\(context) is a group; groups are not supported")
    }
  }

  private func defaultLiteral(_ field: FieldModel, swiftType: String) throws(GeneratorError)
    -> String
  {
    switch field.type {
    case .bool: return "false"
    case .string: return "\"\""
    case .bytes: return "[]"
    case .enum:
      let entry = try index.lookup(field.typeName, from: field.name, generated: generated)
      if let enumeration = entry.enumeration,
        let zero = enumeration.values.first(where: { $0.number == 0 })
      {
        return "." + Naming.escaped(Self.swiftValueName(zero.name, enumName: enumeration.name))
      }
      return "\(swiftType)(rawValue: 0)"
    default: return "0"
    }
  }

  private func plan(_ message: MessageModel) throws(GeneratorError) -> [FieldPlan] {
    let numbers = message.fields.map(\.number).sorted()
    var plans: [FieldPlan] = []
    for field in message.fields {
      let context = "field \(message.fullName).\(field.name) in \(file.name)"
      if field.isProto3Optional {
        throw GeneratorError(
          code: "unsupported_field",
          message: "\(context) is proto3 optional, which is not supported; "
            + "use a oneof or a wrapper message")
      }
      let property = Naming.lowerCamel(field.name)
      if Self.reservedFieldNames.contains(property) {
        throw GeneratorError(
          code: "name_collision",
          message: "\(context) becomes Swift property \(property), which generated code uses; "
            + "rename the field")
      }
      let position = numbers.firstIndex(of: field.number)!
      var plan = FieldPlan(
        field: field, index: position, property: property, read: "", write: "", swiftType: "")
      let element = try elementType(field, context: context)
      let entry =
        field.type == .message
        ? try index.lookup(field.typeName, from: context, generated: generated) : nil
      if field.isRepeated, let map = entry?.message, map.isMapEntry {
        let key = map.fields.first { $0.number == 1 }!
        let value = map.fields.first { $0.number == 2 }!
        let keyType = try elementType(key, context: context)
        let valueType = try elementType(value, context: context)
        plan.swiftType = "[\(keyType): \(valueType)]"
        plan.defaultValue = "[:]"
        plan.read = "try fields.map(at: \(position))"
        plan.write = "setMap"
      } else if field.isRepeated {
        plan.swiftType = "[\(element)]"
        plan.defaultValue = "[]"
        plan.read = "try fields.list(at: \(position))"
        plan.write = "setList"
      } else if field.type == .message {
        plan.swiftType = element + "?"
        plan.read = "try fields.optional(at: \(position))"
        plan.write = "setOptional"
      } else {
        plan.swiftType = element
        plan.defaultValue = try defaultLiteral(field, swiftType: element)
        plan.read = "try fields.value(at: \(position))"
        plan.write = "set"
      }
      if field.oneofIndex != nil {
        plan.swiftType = element
        plan.write = "setPresent"
      }
      plans.append(plan)
    }
    return plans
  }

  private mutating func emitMessage(
    _ message: MessageModel, swiftName: String, indent: String
  ) throws(GeneratorError) {
    let inner = indent + "  "
    let typeName = String(swiftName.split(separator: ".").last!)
    let plans = try plan(message)

    lines += Naming.docComment(
      Self.orDefault(message.comment, "The `\(message.fullName)` message."), indent: indent)
    lines.append("\(indent)public struct \(typeName): ProtoGeneratedMessage {")

    var first = true
    for plan in plans where plan.field.oneofIndex == nil {
      if !first { lines.append("") }
      first = false
      lines += Naming.docComment(Self.fieldComment(plan.field), indent: inner)
      lines.append(
        "\(inner)public var \(Naming.escaped(plan.property)): \(plan.swiftType)"
          + (plan.defaultValue.map { " = \($0)" } ?? ""))
    }
    for (oneofIndex, oneof) in message.oneofNames.enumerated() {
      if !first { lines.append("") }
      first = false
      let comment = message.oneofComments[oneofIndex]
      lines += Naming.docComment(
        comment.isEmpty ? "The `\(oneof)` oneof: at most one of its fields is set." : comment,
        indent: inner)
      lines.append(
        "\(inner)public var \(Naming.escaped(Naming.lowerCamel(oneof))): "
          + "OneOf_\(Naming.upperCamel(oneof))?")
    }

    for (oneofIndex, oneof) in message.oneofNames.enumerated() {
      lines.append("")
      lines.append("\(inner)/// The fields of the `\(oneof)` oneof.")
      lines.append("\(inner)public enum OneOf_\(Naming.upperCamel(oneof)): Sendable, Equatable {")
      for plan in plans where plan.field.oneofIndex == oneofIndex {
        lines += Naming.docComment(Self.fieldComment(plan.field), indent: inner + "  ")
        lines.append("\(inner)  case \(Naming.escaped(plan.property))(\(plan.swiftType))")
      }
      lines.append("\(inner)}")
    }

    for enumeration in message.enums {
      lines.append("")
      try emitEnum(enumeration, swiftName: swiftName + "." + enumeration.name, indent: inner)
    }
    for nested in message.messages where !nested.isMapEntry {
      lines.append("")
      try emitMessage(nested, swiftName: swiftName + "." + nested.name, indent: inner)
    }

    let numbers = message.fields.map(\.number).sorted().map(String.init)
    lines.append("")
    lines.append("\(inner)/// The message's full protobuf name.")
    lines.append("\(inner)public static let protoMessageName = \"\(message.fullName)\"")
    lines.append("")
    lines.append("\(inner)/// Where each field lives in protobuf-c's struct for the message.")
    lines.append("\(inner)public static let protoSchema = ProtoSchema.resolve(")
    lines.append(
      "\(inner)  kp_proto_message_descriptor(\"\(message.fullName)\"), name: protoMessageName,")
    lines += wrapped(
      numbers, open: "fieldNumbers: [", close: "])", indent: inner + "  ", width: 100)
    lines.append("")
    lines.append("\(inner)/// Creates a message with every field at its default.")
    lines.append("\(inner)public init() {}")

    lines.append("")
    lines.append("\(inner)/// Creates the message from a decoded field tree.")
    lines.append("\(inner)public init(protoFields fields: ProtoFields) throws(ProtoError) {")
    for plan in plans where plan.field.oneofIndex == nil {
      lines.append("\(inner)  self.\(Naming.escaped(plan.property)) = \(plan.read)")
    }
    for (oneofIndex, oneof) in message.oneofNames.enumerated() {
      var keyword = "if"
      for plan in plans where plan.field.oneofIndex == oneofIndex {
        lines.append("\(inner)  \(keyword) let value = fields[\(plan.index)] {")
        lines.append(
          "\(inner)    self.\(Naming.escaped(Naming.lowerCamel(oneof))) = "
            + ".\(Naming.escaped(plan.property))(try \(plan.swiftType)(protoValue: value))")
        keyword = "} else if"
      }
      if keyword != "if" {
        lines.append("\(inner)  }")
      }
    }
    lines.append("\(inner)}")

    lines.append("")
    lines.append("\(inner)/// The message as a field tree.")
    lines.append("\(inner)public func protoFields() -> ProtoFields {")
    if plans.isEmpty {
      lines.append("\(inner)  ProtoFields(count: 0)")
    } else {
      lines.append("\(inner)  var fields = ProtoFields(count: \(plans.count))")
      for plan in plans where plan.field.oneofIndex == nil {
        lines.append(
          "\(inner)  fields.\(plan.write)(self.\(Naming.escaped(plan.property)), at: \(plan.index))"
        )
      }
      for (oneofIndex, oneof) in message.oneofNames.enumerated() {
        lines.append("\(inner)  switch self.\(Naming.escaped(Naming.lowerCamel(oneof))) {")
        for plan in plans where plan.field.oneofIndex == oneofIndex {
          lines.append(
            "\(inner)  case .\(Naming.escaped(plan.property))(let value)?: "
              + "fields.setPresent(value, at: \(plan.index))")
        }
        lines.append("\(inner)  case nil: break")
        lines.append("\(inner)  }")
      }
      lines.append("\(inner)  return fields")
    }
    lines.append("\(inner)}")
    lines.append("\(indent)}")
  }

  private func wrapped(
    _ items: [String], open: String, close: String, indent: String, width: Int
  ) -> [String] {
    var result: [String] = []
    var line = indent + open
    for (offset, item) in items.enumerated() {
      let piece = item + (offset == items.count - 1 ? close : ", ")
      if line.count + piece.count > width {
        result.append(String(line.reversed().drop(while: { $0 == " " }).reversed()))
        line = indent + "  "
      }
      line += piece
    }
    if items.isEmpty {
      line += close
    }
    result.append(line)
    return result
  }

  // MARK: Services

  private mutating func emitService(
    _ service: ServiceModel, swiftName: String
  ) throws(GeneratorError) {
    lines += Naming.docComment(
      Self.orDefault(service.comment, "The methods of the `\(service.fullName)` service."),
      indent: "")
    lines.append("public enum \(swiftName) {")
    lines.append("  /// The service's full protobuf name.")
    lines.append("  public static let serviceName = \"\(service.fullName)\"")
    var names: Set<String> = ["serviceName"]
    for method in service.methods {
      let context = "method \(service.fullName).\(method.name) in \(file.name)"
      let name = Naming.lowerFirst(method.name)
      guard names.insert(name).inserted else {
        throw GeneratorError(
          code: "name_collision",
          message: "\(context) becomes Swift name \(name), which is taken; rename the method")
      }
      let input = try index.lookup(method.inputType, from: context, generated: generated)
      let output = try index.lookup(method.outputType, from: context, generated: generated)
      lines.append("")
      lines += Naming.docComment(
        Self.orDefault(method.comment, "The `\(method.name)` method."), indent: "  ")
      lines.append(
        "  public static let \(Naming.escaped(name)) = "
          + "ProtoMethod<\(input.swiftName), \(output.swiftName)>(")
      lines.append("    path: \"/\(service.fullName)/\(method.name)\",")
      lines.append(
        "    clientStreaming: \(method.clientStreaming), "
          + "serverStreaming: \(method.serverStreaming),")
      lines.append("    idempotent: \(method.idempotent))")
    }
    lines.append("}")
  }
}
