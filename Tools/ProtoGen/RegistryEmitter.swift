/// Writes the C registry that maps a message's full name to its protobuf-c descriptor.
enum RegistryEmitter {
  static func emit(files: [ProtoFileModel], header: [String]) -> String {
    var names: [String] = []
    func collect(_ message: MessageModel) {
      names.append(message.fullName)
      message.messages.forEach(collect)
    }
    for file in files {
      file.messages.forEach(collect)
    }
    names.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }

    var lines = header
    lines.append("")
    lines.append("#include <stddef.h>")
    lines.append("#include <string.h>")
    lines.append("")
    lines.append("#include \"kp_proto.h\"")
    lines.append("")
    for file in files.map(\.name).sorted() {
      lines.append("#include \"\(file.dropLast(".proto".count)).pb-c.h\"")
    }
    lines.append("")
    lines.append("typedef struct {")
    lines.append("  const char *name;")
    lines.append("  const ProtobufCMessageDescriptor *descriptor;")
    lines.append("} KPProtoRegistryEntry;")
    lines.append("")
    lines.append("// Sorted by name, in byte order, for the binary search below.")
    lines.append("static const KPProtoRegistryEntry kp_proto_registry[] = {")
    for name in names {
      lines.append("  {\"\(name)\", &\(Naming.protobufCLower(name))__descriptor},")
    }
    lines.append("};")
    lines.append("")
    lines.append("const void *kp_proto_message_descriptor(const char *full_name) {")
    lines.append("  size_t low = 0;")
    lines.append("  size_t high = sizeof(kp_proto_registry) / sizeof(kp_proto_registry[0]);")
    lines.append("  if (full_name == NULL) {")
    lines.append("    return NULL;")
    lines.append("  }")
    lines.append("  while (low < high) {")
    lines.append("    size_t middle = low + (high - low) / 2;")
    lines.append("    int order = strcmp(full_name, kp_proto_registry[middle].name);")
    lines.append("    if (order == 0) {")
    lines.append("      return kp_proto_registry[middle].descriptor;")
    lines.append("    }")
    lines.append("    if (order < 0) {")
    lines.append("      high = middle;")
    lines.append("    } else {")
    lines.append("      low = middle + 1;")
    lines.append("    }")
    lines.append("  }")
    lines.append("  return NULL;")
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
  }
}
