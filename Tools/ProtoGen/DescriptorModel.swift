import KPProtoRuntime

/// The parts of a `.proto` file the generator uses, read from protoc's FileDescriptorSet.
struct ProtoFileModel {
  var name: String
  var package: String
  var syntax: String
  var dependencies: [String]
  var messages: [MessageModel]
  var enums: [EnumModel]
  var services: [ServiceModel]
}

struct MessageModel {
  var fullName: String
  var name: String
  var fields: [FieldModel]
  var oneofNames: [String]
  var oneofComments: [String]
  var messages: [MessageModel]
  var enums: [EnumModel]
  var isMapEntry: Bool
  var comment: String
}

struct FieldModel {
  /// `FieldDescriptorProto.Type` numbers.
  enum ProtoType: Int64 {
    case double = 1
    case float, int64, uint64, int32, fixed64, fixed32, bool, string, group, message
    case bytes, uint32, `enum`, sfixed32, sfixed64, sint32, sint64
  }

  var name: String
  var number: Int
  var isRepeated: Bool
  var type: ProtoType
  /// The referenced message or enum, without the leading dot.
  var typeName: String
  var oneofIndex: Int?
  var isProto3Optional: Bool
  var comment: String
}

struct EnumModel {
  var fullName: String
  var name: String
  var values: [(name: String, number: Int32, comment: String)]
  var comment: String
}

struct ServiceModel {
  var fullName: String
  var name: String
  var methods: [MethodModel]
  var comment: String
}

struct MethodModel {
  var name: String
  var inputType: String
  var outputType: String
  var clientStreaming: Bool
  var serverStreaming: Bool
  var idempotent: Bool
  var comment: String
}

extension ProtoFileModel {
  /// Reads one `FileDescriptorProto`.
  init(_ file: ProtoDynamicMessage) {
    name = file.string("name")
    package = file.string("package")
    syntax = file.string("syntax")
    dependencies = file.strings("dependency")

    var comments: [[Int64]: String] = [:]
    for location in file.message("source_code_info")?.messages("location") ?? [] {
      var text = location.string("leading_comments")
      if text.isEmpty {
        text = location.string("trailing_comments")
      }
      if !text.isEmpty {
        comments[location.integers("path")] = text
      }
    }
    let scope = package.isEmpty ? "" : package + "."
    messages = file.messages("message_type").enumerated().map { index, message in
      MessageModel(message, scope: scope, path: [4, Int64(index)], comments: comments)
    }
    enums = file.messages("enum_type").enumerated().map { index, value in
      EnumModel(value, scope: scope, path: [5, Int64(index)], comments: comments)
    }
    services = file.messages("service").enumerated().map { index, service in
      ServiceModel(service, scope: scope, path: [6, Int64(index)], comments: comments)
    }
  }
}

extension MessageModel {
  init(_ message: ProtoDynamicMessage, scope: String, path: [Int64], comments: [[Int64]: String]) {
    name = message.string("name")
    fullName = scope + name
    comment = comments[path] ?? ""
    isMapEntry = message.message("options")?.bool("map_entry") ?? false
    let oneofs = message.messages("oneof_decl")
    oneofNames = oneofs.map { $0.string("name") }
    oneofComments = oneofs.indices.map { comments[path + [8, Int64($0)]] ?? "" }
    fields = message.messages("field").enumerated().map { index, field in
      FieldModel(
        name: field.string("name"),
        number: Int(field.integer("number")),
        isRepeated: field.integer("label") == 3,
        type: FieldModel.ProtoType(rawValue: field.integer("type")) ?? .group,
        typeName: String(field.string("type_name").drop(while: { $0 == "." })),
        oneofIndex: field["oneof_index"] == nil ? nil : Int(field.integer("oneof_index")),
        isProto3Optional: field.bool("proto3_optional"),
        comment: comments[path + [2, Int64(index)]] ?? "")
    }
    let nestedScope = fullName + "."
    messages = message.messages("nested_type").enumerated().map { index, nested in
      MessageModel(nested, scope: nestedScope, path: path + [3, Int64(index)], comments: comments)
    }
    enums = message.messages("enum_type").enumerated().map { index, nested in
      EnumModel(nested, scope: nestedScope, path: path + [4, Int64(index)], comments: comments)
    }
  }
}

extension EnumModel {
  init(_ value: ProtoDynamicMessage, scope: String, path: [Int64], comments: [[Int64]: String]) {
    name = value.string("name")
    fullName = scope + name
    comment = comments[path] ?? ""
    values = value.messages("value").enumerated().map { index, entry in
      (
        entry.string("name"), Int32(truncatingIfNeeded: entry.integer("number")),
        comments[path + [2, Int64(index)]] ?? ""
      )
    }
  }
}

extension ServiceModel {
  init(_ service: ProtoDynamicMessage, scope: String, path: [Int64], comments: [[Int64]: String]) {
    name = service.string("name")
    fullName = scope + name
    comment = comments[path] ?? ""
    methods = service.messages("method").enumerated().map { index, method in
      // MethodOptions.idempotency_level: 1 is NO_SIDE_EFFECTS, 2 is IDEMPOTENT.
      let level = method.message("options")?.integer("idempotency_level") ?? 0
      return MethodModel(
        name: method.string("name"),
        inputType: String(method.string("input_type").drop(while: { $0 == "." })),
        outputType: String(method.string("output_type").drop(while: { $0 == "." })),
        clientStreaming: method.bool("client_streaming"),
        serverStreaming: method.bool("server_streaming"),
        idempotent: level == 1 || level == 2,
        comment: comments[path + [2, Int64(index)]] ?? "")
    }
  }
}
