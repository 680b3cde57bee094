import KPProtocol

#if canImport(Glibc)
  import Glibc
#endif

/// Writes the envelopes that every call sends (start, payload, half-close and status) straight
/// into the output, without filling protobuf-c's C structs to pack them.
///
/// The bytes are those protobuf-c writes for the same envelope: fields in field-number order,
/// fields at their default value left out except inside a oneof. A string with a NUL inside or a
/// negative status code is left to protobuf-c, which ends such a string at the NUL; so is every
/// other kind. The codec tests and the fuzzing target compare the two encodings.
enum CallEnvelopeWriter {
  /// Appends `envelope` framed (4-byte big-endian length, then the envelope) to `buffer`;
  /// returns false, leaving `buffer` as it was, when protobuf-c must write it.
  static func append(_ envelope: Kp_Wire_V1_Envelope, to buffer: inout [UInt8]) -> Bool {
    let body: Int
    let fieldTag: UInt8
    switch envelope.kind {
    case .start(let start):
      guard let size = size(of: start) else { return false }
      (body, fieldTag) = (size, 0x1A)
    case .payload(let payload):
      (body, fieldTag) = (size(of: payload), 0x22)
    case .halfClose:
      (body, fieldTag) = (0, 0x2A)
    case .status(let status):
      guard let size = size(of: status) else { return false }
      (body, fieldTag) = (size, 0x3A)
    default:
      return false
    }
    let callID = envelope.callId
    let total = (callID == 0 ? 0 : 1 + varintSize(callID)) + 1 + varintSize(UInt64(body)) + body

    let start = buffer.count
    buffer.append(contentsOf: repeatElement(0, count: 4 + total))
    buffer.withUnsafeMutableBufferPointer { output in
      var out = Output(base: output.baseAddress! + start)
      out.byte(UInt8(truncatingIfNeeded: total >> 24))
      out.byte(UInt8(truncatingIfNeeded: total >> 16))
      out.byte(UInt8(truncatingIfNeeded: total >> 8))
      out.byte(UInt8(truncatingIfNeeded: total))
      if callID != 0 {
        out.byte(0x08)
        out.varint(callID)
      }
      out.byte(fieldTag)
      out.varint(UInt64(body))
      switch envelope.kind {
      case .start(let start): write(start, to: &out)
      case .payload(let payload): write(payload, to: &out)
      case .status(let status): write(status, to: &out)
      default: break
      }
    }
    return true
  }

  // MARK: Sizes (nil: left to protobuf-c)

  private static func size(of start: Kp_Wire_V1_CallStart) -> Int? {
    guard let method = textSize(start.method) else { return nil }
    var total = start.method.isEmpty ? 0 : field(method)
    for entry in start.metadata {
      guard let entry = size(of: entry) else { return nil }
      total += field(entry)
    }
    if start.timeoutMicros != 0 { total += 1 + varintSize(start.timeoutMicros) }
    if let payload = start.firstMessage { total += field(size(of: payload)) }
    if start.halfClose { total += 2 }
    return total
  }

  private static func size(of status: Kp_Wire_V1_Status) -> Int? {
    guard status.code.rawValue >= 0, let message = textSize(status.message) else { return nil }
    var total = status.code.rawValue == 0 ? 0 : 1 + varintSize(UInt64(status.code.rawValue))
    if !status.message.isEmpty { total += field(message) }
    for entry in status.trailers {
      guard let entry = size(of: entry) else { return nil }
      total += field(entry)
    }
    if let payload = status.lastMessage { total += field(size(of: payload)) }
    return total
  }

  private static func size(of entry: Kp_Wire_V1_MetadataEntry) -> Int? {
    guard let key = textSize(entry.key) else { return nil }
    var total = entry.key.isEmpty ? 0 : field(key)
    switch entry.value {
    case .text(let text):
      guard let text = textSize(text) else { return nil }
      total += field(text)
    case .binary(let binary):
      total += field(binary.count)
    case nil:
      break
    }
    return total
  }

  private static func size(of payload: Kp_Wire_V1_Payload) -> Int {
    payload.data.isEmpty ? 0 : field(payload.data.count)
  }

  /// A string's length in UTF-8, or nil when it holds a NUL.
  private static func textSize(_ text: String) -> Int? {
    let scanned = text.utf8.withContiguousStorageIfAvailable { utf8 -> Int? in
      guard let base = utf8.baseAddress, !utf8.isEmpty else { return 0 }
      return memchr(base, 0, utf8.count) == nil ? utf8.count : nil
    }
    if let scanned { return scanned }
    return text.utf8.contains(0) ? nil : text.utf8.count
  }

  /// The size of a length-delimited field with a one-byte tag and `length` bytes of content.
  private static func field(_ length: Int) -> Int { 1 + varintSize(UInt64(length)) + length }

  private static func varintSize(_ value: UInt64) -> Int {
    // 1 byte for up to 7 significant bits, one more for every further 7.
    (64 - value.leadingZeroBitCount + 6) / 7 + (value == 0 ? 1 : 0)
  }

  // MARK: Writing

  private static func write(_ start: Kp_Wire_V1_CallStart, to out: inout Output) {
    if !start.method.isEmpty { out.text(0x0A, start.method) }
    for entry in start.metadata {
      out.byte(0x12)
      out.varint(UInt64(size(of: entry) ?? 0))
      write(entry, to: &out)
    }
    if start.timeoutMicros != 0 {
      out.byte(0x18)
      out.varint(start.timeoutMicros)
    }
    if let payload = start.firstMessage {
      out.byte(0x22)
      out.varint(UInt64(size(of: payload)))
      write(payload, to: &out)
    }
    if start.halfClose {
      out.byte(0x28)
      out.byte(1)
    }
  }

  private static func write(_ status: Kp_Wire_V1_Status, to out: inout Output) {
    if status.code.rawValue != 0 {
      out.byte(0x08)
      out.varint(UInt64(status.code.rawValue))
    }
    if !status.message.isEmpty { out.text(0x12, status.message) }
    for entry in status.trailers {
      out.byte(0x1A)
      out.varint(UInt64(size(of: entry) ?? 0))
      write(entry, to: &out)
    }
    if let payload = status.lastMessage {
      out.byte(0x22)
      out.varint(UInt64(size(of: payload)))
      write(payload, to: &out)
    }
  }

  private static func write(_ entry: Kp_Wire_V1_MetadataEntry, to out: inout Output) {
    if !entry.key.isEmpty { out.text(0x0A, entry.key) }
    switch entry.value {
    case .text(let text): out.text(0x12, text)
    case .binary(let binary): out.bytes(0x1A, binary)
    case nil: break
    }
  }

  private static func write(_ payload: Kp_Wire_V1_Payload, to out: inout Output) {
    if !payload.data.isEmpty { out.bytes(0x0A, payload.data) }
  }

  /// A cursor over output whose size was computed beforehand.
  private struct Output {
    var base: UnsafeMutablePointer<UInt8>

    mutating func byte(_ value: UInt8) {
      base.pointee = value
      base += 1
    }

    mutating func varint(_ value: UInt64) {
      var value = value
      while value >= 0x80 {
        byte(UInt8(truncatingIfNeeded: value) | 0x80)
        value >>= 7
      }
      byte(UInt8(value))
    }

    mutating func bytes(_ tag: UInt8, _ data: [UInt8]) {
      byte(tag)
      varint(UInt64(data.count))
      data.withUnsafeBufferPointer { data in
        if let source = data.baseAddress { base.update(from: source, count: data.count) }
        base += data.count
      }
    }

    mutating func text(_ tag: UInt8, _ text: String) {
      let written: Void? = text.utf8.withContiguousStorageIfAvailable { utf8 in
        raw(tag, utf8)
      }
      guard written == nil else { return }
      var text = text
      text.withUTF8 { raw(tag, $0) }
    }

    private mutating func raw(_ tag: UInt8, _ utf8: UnsafeBufferPointer<UInt8>) {
      byte(tag)
      varint(UInt64(utf8.count))
      if let source = utf8.baseAddress { base.update(from: source, count: utf8.count) }
      base += utf8.count
    }
  }
}
