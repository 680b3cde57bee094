/// Every message and enum in the descriptor set, by full protobuf name.
struct TypeIndex {
  struct Entry {
    var swiftName: String
    var file: String
    var message: MessageModel?
    var enumeration: EnumModel?
  }

  private(set) var entries: [String: Entry] = [:]

  init(files: [ProtoFileModel]) {
    for file in files {
      let prefix = Naming.typePrefix(package: file.package)
      for message in file.messages {
        add(message, swiftName: prefix + message.name, file: file.name)
      }
      for enumeration in file.enums {
        entries[enumeration.fullName] = Entry(
          swiftName: prefix + enumeration.name, file: file.name, enumeration: enumeration)
      }
    }
  }

  private mutating func add(_ message: MessageModel, swiftName: String, file: String) {
    entries[message.fullName] = Entry(swiftName: swiftName, file: file, message: message)
    for nested in message.messages {
      add(nested, swiftName: swiftName + "." + nested.name, file: file)
    }
    for enumeration in message.enums {
      entries[enumeration.fullName] = Entry(
        swiftName: swiftName + "." + enumeration.name, file: file, enumeration: enumeration)
    }
  }

  /// The entry for a referenced type, which must come from a generated file.
  func lookup(_ fullName: String, from context: String, generated: Set<String>)
    throws(GeneratorError) -> Entry
  {
    guard let entry = entries[fullName] else {
      throw GeneratorError(
        code: "unknown_type", message: "\(context) refers to \(fullName), which no file defines")
    }
    guard generated.contains(entry.file) else {
      throw GeneratorError(
        code: "unsupported_import",
        message: "\(context) refers to \(fullName) from \(entry.file), which is not generated; "
          + "use types from files under proto/ only")
    }
    return entry
  }
}
