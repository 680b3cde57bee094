import KPProtoRuntime
import KPProtocol

/// Reads the envelopes that every call sends (start, payload, half-close and status) straight
/// from a frame's bytes, without unpacking them into protobuf-c's C structs and copying them out.
///
/// It accepts only what an encoder writes for these kinds: fields in field-number order, each
/// once (metadata entries and trailers repeat side by side), with their declared wire types, no
/// unknown fields, booleans of 0 or 1, status codes from 0 to `Int32.max`, and strings of valid
/// UTF-8 without a NUL. Anything else, and every other kind, gives nil, and `EnvelopeCodec`
/// hands the frame to protobuf-c. So every envelope read here is one protobuf-c reads alike; the
/// codec tests and the fuzzing target check that for every input they try.
struct CallEnvelopeReader {
  private let bytes: UnsafePointer<UInt8>
  private var position: Int
  private var end: Int

  private init(_ bytes: UnsafePointer<UInt8>, count: Int) {
    self.bytes = bytes
    position = 0
    end = count
  }

  /// The envelope in `frame`, or nil when the frame needs the general decoder.
  static func read(_ frame: UnsafeRawBufferPointer) -> Kp_Wire_V1_Envelope? {
    guard let base = frame.baseAddress, frame.count > 0 else { return nil }
    var reader = CallEnvelopeReader(base.assumingMemoryBound(to: UInt8.self), count: frame.count)
    return reader.envelope()
  }

  // MARK: Messages

  private mutating func envelope() -> Kp_Wire_V1_Envelope? {
    var envelope = Kp_Wire_V1_Envelope()
    guard var (field, wireType) = tag() else { return nil }

    if field == 1 {
      guard wireType == 0, let callID = varint() else { return nil }
      envelope.callId = callID
      guard let next = tag() else { return nil }
      (field, wireType) = next
    }

    guard wireType == 2, let length = length() else { return nil }
    let messageEnd = position + length
    let outerEnd = end
    end = messageEnd
    defer { end = outerEnd }
    switch field {
    case 3:
      guard let start = callStart() else { return nil }
      envelope.kind = .start(start)
    case 4:
      guard let payload = payload() else { return nil }
      envelope.kind = .payload(payload)
    case 5:
      guard position == end else { return nil }
      envelope.kind = .halfClose(Kp_Wire_V1_HalfClose())
    case 7:
      guard let status = status() else { return nil }
      envelope.kind = .status(status)
    default:
      return nil
    }

    // The kind is the last field: nothing may follow it.
    guard position == messageEnd, messageEnd == outerEnd else { return nil }
    return envelope
  }

  private mutating func callStart() -> Kp_Wire_V1_CallStart? {
    var start = Kp_Wire_V1_CallStart()
    var last = 0
    while position < end {
      guard let (field, wireType) = tag(), field > last || (field == 2 && last == 2) else {
        return nil
      }
      last = field
      switch (field, wireType) {
      case (1, 2):
        guard let method = string() else { return nil }
        start.method = method
      case (2, 2):
        guard let entry = nested({ $0.metadataEntry() }) else { return nil }
        start.metadata.append(entry)
      case (3, 0):
        guard let timeout = varint() else { return nil }
        start.timeoutMicros = timeout
      case (4, 2):
        guard let payload = nested({ $0.payload() }) else { return nil }
        start.firstMessage = payload
      case (5, 0):
        guard let halfClose = boolean() else { return nil }
        start.halfClose = halfClose
      default:
        return nil
      }
    }
    return start
  }

  private mutating func status() -> Kp_Wire_V1_Status? {
    var status = Kp_Wire_V1_Status()
    var last = 0
    while position < end {
      guard let (field, wireType) = tag(), field > last || (field == 3 && last == 3) else {
        return nil
      }
      last = field
      switch (field, wireType) {
      case (1, 0):
        guard let code = varint(limit: 5), code <= UInt64(Int32.max) else { return nil }
        status.code = Kp_Wire_V1_StatusCode(rawValue: Int32(code))
      case (2, 2):
        guard let message = string() else { return nil }
        status.message = message
      case (3, 2):
        guard let entry = nested({ $0.metadataEntry() }) else { return nil }
        status.trailers.append(entry)
      case (4, 2):
        guard let payload = nested({ $0.payload() }) else { return nil }
        status.lastMessage = payload
      default:
        return nil
      }
    }
    return status
  }

  private mutating func metadataEntry() -> Kp_Wire_V1_MetadataEntry? {
    var entry = Kp_Wire_V1_MetadataEntry()
    var last = 0
    while position < end {
      // At most one of the value's two fields, text (2) and binary (3).
      guard let (field, wireType) = tag(), field > last, wireType == 2, last < 2 else {
        return nil
      }
      last = field
      switch field {
      case 1:
        guard let key = string() else { return nil }
        entry.key = key
      case 2:
        guard let text = string() else { return nil }
        entry.value = .text(text)
      case 3:
        guard let binary = data() else { return nil }
        entry.value = .binary(binary)
      default:
        return nil
      }
    }
    return entry
  }

  private mutating func payload() -> Kp_Wire_V1_Payload? {
    var payload = Kp_Wire_V1_Payload()
    guard position < end else { return payload }
    guard let (field, wireType) = tag(), field == 1, wireType == 2, let data = data(),
      position == end
    else { return nil }
    payload.data = data
    return payload
  }

  /// Reads a length-delimited field's content with `read`, which must consume all of it.
  private mutating func nested<T>(_ read: (inout CallEnvelopeReader) -> T?) -> T? {
    guard let length = length() else { return nil }
    let outerEnd = end
    end = position + length
    defer { end = outerEnd }
    guard let value = read(&self), position == end else { return nil }
    return value
  }

  // MARK: Scalars

  /// A field's tag. Every field these kinds declare has a one-byte tag.
  private mutating func tag() -> (field: Int, wireType: UInt8)? {
    guard position < end, bytes[position] < 0x80, bytes[position] >= 8 else { return nil }
    let key = bytes[position]
    position += 1
    return (Int(key >> 3), key & 7)
  }

  /// A varint of at most `limit` bytes. protobuf-c reads lengths and 32-bit values from at most
  /// five bytes, so longer spellings of those are left to it.
  private mutating func varint(limit: Int = 10) -> UInt64? {
    var value: UInt64 = 0
    var shift: UInt64 = 0
    let stop = min(end, position + limit)
    while position < stop {
      let byte = bytes[position]
      position += 1
      value |= UInt64(byte & 0x7F) << shift
      if byte < 0x80 {
        // A tenth byte may carry only the top bit.
        return shift == 63 && byte > 1 ? nil : value
      }
      shift += 7
    }
    return nil
  }

  private mutating func boolean() -> Bool? {
    guard let value = varint(), value <= 1 else { return nil }
    return value == 1
  }

  /// A length prefix that fits within what is left of the current message.
  private mutating func length() -> Int? {
    guard let length = varint(limit: 4), length <= UInt64(end - position) else { return nil }
    return Int(length)
  }

  private mutating func data() -> [UInt8]? {
    guard let length = length() else { return nil }
    defer { position += length }
    return Array(UnsafeBufferPointer(start: bytes + position, count: length))
  }

  private mutating func string() -> String? {
    guard let length = length() else { return nil }
    let utf8 = UnsafeBufferPointer(start: bytes + position, count: length)
    position += length
    // protobuf-c's strings end at their first NUL, so one inside is left to it.
    guard !utf8.contains(0) else { return nil }
    return ProtoText.string(utf8)
  }
}
