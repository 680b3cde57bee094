internal import CProtobufC

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// Every byte is packed and unpacked by protobuf-c; this file only moves values between the
// field tree and the C structs protobuf-c works on, guided by the descriptor's layout.

extension ProtoSchema {
  // MARK: Decoding

  /// Decodes one serialized message into a field tree.
  ///
  /// - Throws: ``ProtoError`` with code `malformed` when protobuf-c refuses the bytes, or
  ///   `invalidUTF8` when a string field is not valid UTF-8.
  public func decode(_ bytes: [UInt8]) throws(ProtoError) -> ProtoFields {
    try bytes.withUnsafeBytes { buffer in Result { () throws(ProtoError) in try decode(buffer) } }
      .get()
  }

  /// Decodes one serialized message into a field tree.
  ///
  /// - Throws: ``ProtoError`` with code `malformed` when protobuf-c refuses the bytes, or
  ///   `invalidUTF8` when a string field is not valid UTF-8.
  public func decode(_ buffer: UnsafeRawBufferPointer) throws(ProtoError) -> ProtoFields {
    // Small messages unpack into stack memory; the field tree copies what it keeps.
    var result: Result<ProtoFields, ProtoError>!
    ProtoUnpackScratch.with { scratch in
      let allocator = scratch.assumingMemoryBound(to: ProtobufCAllocator.self)
      let message = protobuf_c_message_unpack(
        descriptor, allocator, buffer.count,
        buffer.baseAddress?.assumingMemoryBound(to: UInt8.self))
      result = Result { () throws(ProtoError) in try takeUnpacked(message, allocator) }
    }
    return try result.get()
  }

  private func takeUnpacked(
    _ message: UnsafeMutablePointer<ProtobufCMessage>?,
    _ allocator: UnsafeMutablePointer<ProtobufCAllocator>
  ) throws(ProtoError) -> ProtoFields {
    guard let message else {
      throw ProtoError(
        code: .malformed,
        message: "the bytes are not a valid \(fullName) message: truncated, a field with the "
          + "wrong wire type, or a length beyond the end of the input")
    }
    defer { protobuf_c_message_free_unpacked(message, allocator) }
    return try fields(of: UnsafeRawPointer(message))
  }

  /// Reads every field of an unpacked C message.
  func fields(of message: UnsafeRawPointer) throws(ProtoError) -> ProtoFields {
    var result = ProtoFields(count: layouts.count)
    for index in layouts.indices {
      let field = layouts[index]
      if field.isOneof {
        let selected = message.load(fromByteOffset: field.quantifierOffset, as: UInt32.self)
        if selected == field.number {
          result[index] = try read(field, at: message + field.offset, keepDefault: true)
        }
        continue
      }
      switch field.presence {
      case .repeated:
        let count = message.load(fromByteOffset: field.quantifierOffset, as: Int.self)
        guard count > 0,
          let array = message.load(fromByteOffset: field.offset, as: UnsafeRawPointer?.self)
        else { continue }
        var items: [ProtoValue] = []
        items.reserveCapacity(count)
        for element in 0..<count {
          if let item = try read(field, at: array + element * field.stride, keepDefault: true) {
            items.append(item)
          }
        }
        result[index] = .list(items)
      case .flagged:
        let isSet = message.load(fromByteOffset: field.quantifierOffset, as: Int32.self) != 0
        if isSet {
          result[index] = try read(field, at: message + field.offset, keepDefault: true)
        }
      case .pointer:
        result[index] = try read(field, at: message + field.offset, keepDefault: true)
      case .implicit:
        result[index] = try read(field, at: message + field.offset, keepDefault: false)
      }
    }
    return result
  }

  /// Reads one value; `nil` for a NULL pointer, or for a default when defaults are dropped.
  private func read(
    _ field: FieldLayout, at address: UnsafeRawPointer, keepDefault: Bool
  ) throws(ProtoError) -> ProtoValue? {
    switch field.kind {
    case .bool:
      let value = address.load(as: protobuf_c_boolean.self) != 0
      return value || keepDefault ? .bool(value) : nil
    case .int32:
      let value = address.load(as: Int32.self)
      return value != 0 || keepDefault ? .int32(value) : nil
    case .int64:
      let value = address.load(as: Int64.self)
      return value != 0 || keepDefault ? .int64(value) : nil
    case .uint32:
      let value = address.load(as: UInt32.self)
      return value != 0 || keepDefault ? .uint32(value) : nil
    case .uint64:
      let value = address.load(as: UInt64.self)
      return value != 0 || keepDefault ? .uint64(value) : nil
    case .float:
      let value = address.load(as: Float.self)
      return value != 0 || keepDefault ? .float(value) : nil
    case .double:
      let value = address.load(as: Double.self)
      return value != 0 || keepDefault ? .double(value) : nil
    case .string:
      guard let text = address.load(as: UnsafePointer<UInt8>?.self) else { return nil }
      let length = strlen(text)
      if length == 0 {
        return keepDefault ? .string("") : nil
      }
      let utf8 = UnsafeBufferPointer(start: text, count: length)
      guard let string = ProtoText.string(utf8) else {
        throw ProtoError(
          code: .invalidUTF8,
          message: "field \(field.name) of \(fullName) is not valid UTF-8")
      }
      return .string(string)
    case .bytes:
      let data = address.load(as: ProtobufCBinaryData.self)
      guard data.len > 0, let start = data.data else {
        return keepDefault ? .bytes([]) : nil
      }
      return .bytes(Array(UnsafeBufferPointer(start: start, count: data.len)))
    case .message:
      guard let nested = address.load(as: UnsafeRawPointer?.self), let schema = field.nested
      else { return nil }
      return .message(try schema.fields(of: nested))
    }
  }

  // MARK: Encoding

  /// Serializes a field tree as one message.
  public func serialize(_ fields: ProtoFields) -> [UInt8] {
    withUnsafeTemporaryAllocation(
      byteCount: ProtoUnpackScratch.stackLimit, alignment: 16
    ) { scratch in
      var arena = ProtoArena(initial: scratch)
      let message = build(fields, in: &arena).assumingMemoryBound(to: ProtobufCMessage.self)
      let size = protobuf_c_message_get_packed_size(message)
      guard size > 0 else { return [] }
      // A small message is packed on the stack and copied into its array: making an array from
      // a buffer is specialised for bytes, while `init(unsafeUninitializedCapacity:)` and
      // `init(repeating:count:)` allocate through the standard library's generic code, with a
      // runtime type check on every call.
      if size <= ProtoUnpackScratch.stackLimit {
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { buffer in
          let packed = protobuf_c_message_pack(message, buffer.baseAddress)
          return Array(UnsafeBufferPointer(rebasing: buffer[0..<packed]))
        }
      }
      return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
        count = protobuf_c_message_pack(message, buffer.baseAddress)
      }
    }
  }

  /// Serializes a field tree as one message at the end of a buffer.
  public func append(_ fields: ProtoFields, to buffer: inout [UInt8]) {
    withUnsafeTemporaryAllocation(
      byteCount: ProtoUnpackScratch.stackLimit, alignment: 16
    ) { scratch in
      var arena = ProtoArena(initial: scratch)
      let message = build(fields, in: &arena).assumingMemoryBound(to: ProtobufCMessage.self)
      let size = protobuf_c_message_get_packed_size(message)
      guard size > 0 else { return }
      let packed = arena.allocate(byteCount: size).assumingMemoryBound(to: UInt8.self)
      let written = protobuf_c_message_pack(message, packed)
      buffer.append(contentsOf: UnsafeBufferPointer(start: packed, count: written))
    }
  }

  /// Builds the C struct of a message in arena memory.
  func build(_ fields: ProtoFields, in arena: inout ProtoArena) -> UnsafeMutableRawPointer {
    let message = arena.allocate(byteCount: messageSize)
    protobuf_c_message_init(descriptor, message)
    let count = min(fields.count, layouts.count)
    for index in 0..<count {
      guard let value = fields[index] else { continue }
      let field = layouts[index]
      if field.isOneof {
        message.storeBytes(of: field.number, toByteOffset: field.quantifierOffset, as: UInt32.self)
        write(value, of: field, to: message + field.offset, in: &arena)
        continue
      }
      switch field.presence {
      case .repeated:
        guard case .list(let items) = value, !items.isEmpty else { continue }
        let array = arena.allocate(byteCount: items.count * field.stride)
        for (element, item) in items.enumerated() {
          write(item, of: field, to: array + element * field.stride, in: &arena)
        }
        message.storeBytes(of: items.count, toByteOffset: field.quantifierOffset, as: Int.self)
        message.storeBytes(
          of: UnsafeRawPointer(array), toByteOffset: field.offset, as: UnsafeRawPointer.self)
      case .flagged:
        message.storeBytes(
          of: 1, toByteOffset: field.quantifierOffset, as: protobuf_c_boolean.self)
        write(value, of: field, to: message + field.offset, in: &arena)
      case .pointer, .implicit:
        write(value, of: field, to: message + field.offset, in: &arena)
      }
    }
    return message
  }

  /// Writes one value into its slot. A value of the wrong kind for the field is left out;
  /// generated code never produces one.
  private func write(
    _ value: ProtoValue, of field: FieldLayout, to address: UnsafeMutableRawPointer,
    in arena: inout ProtoArena
  ) {
    switch (field.kind, value) {
    case (.bool, .bool(let value)):
      address.storeBytes(of: value ? 1 : 0, as: protobuf_c_boolean.self)
    case (.int32, .int32(let value)):
      address.storeBytes(of: value, as: Int32.self)
    case (.int64, .int64(let value)):
      address.storeBytes(of: value, as: Int64.self)
    case (.uint32, .uint32(let value)):
      address.storeBytes(of: value, as: UInt32.self)
    case (.uint64, .uint64(let value)):
      address.storeBytes(of: value, as: UInt64.self)
    case (.float, .float(let value)):
      address.storeBytes(of: value, as: Float.self)
    case (.double, .double(let value)):
      address.storeBytes(of: value, as: Double.self)
    case (.string, .string(var value)):
      // protobuf-c strings are NUL-terminated: an embedded NUL ends the string.
      let text = value.withUTF8 { utf8 in
        let copy = arena.allocate(byteCount: utf8.count + 1)
        if let base = utf8.baseAddress {
          copy.copyMemory(from: base, byteCount: utf8.count)
        }
        copy.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
        return copy
      }
      address.storeBytes(of: UnsafeRawPointer(text), as: UnsafeRawPointer.self)
    case (.bytes, .bytes(let value)):
      var data = ProtobufCBinaryData(len: 0, data: nil)
      if !value.isEmpty {
        let copy = arena.allocate(byteCount: value.count)
        value.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        data = ProtobufCBinaryData(
          len: value.count, data: copy.assumingMemoryBound(to: UInt8.self))
      }
      address.storeBytes(of: data, as: ProtobufCBinaryData.self)
    case (.message, .message(let nestedFields)):
      guard let schema = field.nested else { return }
      let nested = schema.build(nestedFields, in: &arena)
      address.storeBytes(of: UnsafeRawPointer(nested), as: UnsafeRawPointer.self)
    default:
      return
    }
  }
}
