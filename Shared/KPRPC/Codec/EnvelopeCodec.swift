internal import CProtobufC
internal import KPProtoC
import KPProtoRuntime
import KPProtocol

#if canImport(Glibc)
  import Glibc
#endif

/// Frames envelopes and reads them back.
///
/// The envelopes every call sends (start, payload, half-close, status) in the form encoders
/// write them are read and written directly (`CallEnvelopeReader`, `CallEnvelopeWriter`).
/// Everything else goes through protobuf-c's generated code for `kp.wire.v1.Envelope`: this
/// codec then only moves values between the Swift envelope and protobuf-c's C structs, field by
/// field. Every frame of every call passes through here, so neither path builds the generic
/// field tree that application messages go through (`ProtoSchema`), which costs several
/// allocations per nested message. The result is the same as
/// `Kp_Wire_V1_Envelope(serializedBytes:)` and `serializedBytes()`, including the refusal of
/// strings that are not UTF-8; the tests and the fuzzing target compare the two.
enum EnvelopeCodec {
  // MARK: Decoding

  /// Reads one frame's body as an envelope.
  ///
  /// - Throws: `FrameError` with code `malformed_envelope` when protobuf-c refuses the bytes or
  ///   a string field is not valid UTF-8.
  static func decode(_ frame: UnsafeRawBufferPointer) throws(FrameError) -> Kp_Wire_V1_Envelope {
    if let envelope = CallEnvelopeReader.read(frame) { return envelope }

    // The C structs unpack into stack memory, and everything is copied out before it goes.
    var result: Result<Kp_Wire_V1_Envelope, FrameError>!
    ProtoUnpackScratch.with { scratch in
      result = Result { () throws(FrameError) in
        let allocator = scratch.assumingMemoryBound(to: ProtobufCAllocator.self)
        let bytes = frame.baseAddress?.assumingMemoryBound(to: UInt8.self)
        guard let message = kp__wire__v1__envelope__unpack(allocator, frame.count, bytes) else {
          throw .malformedEnvelope(
            "the bytes are not a valid kp.wire.v1.Envelope message: truncated, a field with "
              + "the wrong wire type, or a length beyond the end of the input")
        }
        defer { kp__wire__v1__envelope__free_unpacked(message, allocator) }

        var envelope = Kp_Wire_V1_Envelope()
        envelope.callId = message.pointee.call_id
        envelope.kind = try kind(of: message.pointee)
        return envelope
      }
    }
    return try result.get()
  }

  private static func kind(
    of message: Kp__Wire__V1__Envelope
  ) throws(FrameError) -> Kp_Wire_V1_Envelope.OneOf_Kind? {
    switch message.kind_case {
    case KP__WIRE__V1__ENVELOPE__KIND_SETTINGS:
      guard let wire = message.settings?.pointee else { return nil }
      var settings = Kp_Wire_V1_Settings()
      settings.maxFrameSize = wire.max_frame_size
      settings.maxConcurrentCalls = wire.max_concurrent_calls
      settings.initialCallWindow = wire.initial_call_window
      settings.minPingIntervalMs = wire.min_ping_interval_ms
      return .settings(settings)
    case KP__WIRE__V1__ENVELOPE__KIND_START:
      guard let wire = message.start?.pointee else { return nil }
      var start = Kp_Wire_V1_CallStart()
      start.method = try text(wire.method, "CallStart.method")
      start.metadata = try entries(wire.metadata, count: wire.n_metadata)
      start.timeoutMicros = wire.timeout_micros
      start.firstMessage = payload(wire.first_message)
      start.halfClose = wire.half_close != 0
      return .start(start)
    case KP__WIRE__V1__ENVELOPE__KIND_PAYLOAD:
      guard let wire = message.payload?.pointee else { return nil }
      var payload = Kp_Wire_V1_Payload()
      payload.data = bytes(wire.data)
      return .payload(payload)
    case KP__WIRE__V1__ENVELOPE__KIND_HALF_CLOSE:
      guard message.half_close != nil else { return nil }
      return .halfClose(Kp_Wire_V1_HalfClose())
    case KP__WIRE__V1__ENVELOPE__KIND_CANCEL:
      guard let wire = message.cancel?.pointee else { return nil }
      var cancel = Kp_Wire_V1_Cancel()
      cancel.reason = try text(wire.reason, "Cancel.reason")
      return .cancel(cancel)
    case KP__WIRE__V1__ENVELOPE__KIND_STATUS:
      guard let wire = message.status?.pointee else { return nil }
      var status = Kp_Wire_V1_Status()
      status.code = Kp_Wire_V1_StatusCode(rawValue: Int32(bitPattern: wire.code.rawValue))
      status.message = try text(wire.message, "Status.message")
      status.trailers = try entries(wire.trailers, count: wire.n_trailers)
      status.lastMessage = payload(wire.last_message)
      return .status(status)
    case KP__WIRE__V1__ENVELOPE__KIND_PING:
      guard let wire = message.ping?.pointee else { return nil }
      var ping = Kp_Wire_V1_Ping()
      ping.opaque = wire.opaque
      return .ping(ping)
    case KP__WIRE__V1__ENVELOPE__KIND_PONG:
      guard let wire = message.pong?.pointee else { return nil }
      var pong = Kp_Wire_V1_Pong()
      pong.opaque = wire.opaque
      return .pong(pong)
    case KP__WIRE__V1__ENVELOPE__KIND_GOAWAY:
      guard let wire = message.goaway?.pointee else { return nil }
      var goAway = Kp_Wire_V1_GoAway()
      goAway.lastCallId = wire.last_call_id
      goAway.code = Kp_Wire_V1_StatusCode(rawValue: Int32(bitPattern: wire.code.rawValue))
      goAway.reason = try text(wire.reason, "GoAway.reason")
      return .goaway(goAway)
    case KP__WIRE__V1__ENVELOPE__KIND_WINDOW_UPDATE:
      guard let wire = message.window_update?.pointee else { return nil }
      var update = Kp_Wire_V1_WindowUpdate()
      update.increment = wire.increment
      return .windowUpdate(update)
    default:
      return nil
    }
  }

  private static func entries(
    _ array: UnsafeMutablePointer<UnsafeMutablePointer<Kp__Wire__V1__MetadataEntry>?>?,
    count: Int
  ) throws(FrameError) -> [Kp_Wire_V1_MetadataEntry] {
    guard count > 0, let array else { return [] }
    var result: [Kp_Wire_V1_MetadataEntry] = []
    result.reserveCapacity(count)
    for index in 0..<count {
      guard let wire = array[index]?.pointee else { continue }
      var entry = Kp_Wire_V1_MetadataEntry()
      entry.key = try text(wire.key, "MetadataEntry.key")
      switch wire.value_case {
      case KP__WIRE__V1__METADATA_ENTRY__VALUE_TEXT:
        if wire.text != nil { entry.value = .text(try text(wire.text, "MetadataEntry.text")) }
      case KP__WIRE__V1__METADATA_ENTRY__VALUE_BINARY:
        entry.value = .binary(bytes(wire.binary))
      default:
        break
      }
      result.append(entry)
    }
    return result
  }

  /// A C string as a Swift string; protobuf-c ends strings at their first NUL.
  private static func text(
    _ pointer: UnsafeMutablePointer<CChar>?, _ field: String
  ) throws(FrameError) -> String {
    guard let pointer else { return "" }
    let length = strlen(pointer)
    guard length > 0 else { return "" }
    let utf8 = UnsafeRawPointer(pointer).bindMemory(to: UInt8.self, capacity: length)
    guard let string = ProtoText.string(UnsafeBufferPointer(start: utf8, count: length)) else {
      throw .malformedEnvelope("field \(field) of kp.wire.v1.Envelope is not valid UTF-8")
    }
    return string
  }

  /// A payload carried inside another frame kind, nil when absent.
  private static func payload(
    _ wire: UnsafeMutablePointer<Kp__Wire__V1__Payload>?
  ) -> Kp_Wire_V1_Payload? {
    guard let wire else { return nil }
    var payload = Kp_Wire_V1_Payload()
    payload.data = bytes(wire.pointee.data)
    return payload
  }

  private static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
    guard data.len > 0, let start = data.data else { return [] }
    return Array(UnsafeBufferPointer(start: start, count: data.len))
  }

  // MARK: Encoding

  /// Appends one framed envelope to `buffer`: the 4-byte big-endian length, then the envelope.
  static func append(_ envelope: Kp_Wire_V1_Envelope, to buffer: inout [UInt8]) {
    if CallEnvelopeWriter.append(envelope, to: &buffer) { return }
    // A message carried inside a start or a status is packed where it lies.
    let carried: [UInt8]
    switch envelope.kind {
    case .start(let start): carried = start.firstMessage?.data ?? []
    case .status(let status): carried = status.lastMessage?.data ?? []
    default: carried = []
    }
    carried.withUnsafeBufferPointer { carried in
      var carriedPayload = Kp__Wire__V1__Payload()
      kp__wire__v1__payload__init(&carriedPayload)
      carriedPayload.data = binary(carried)
      withUnsafeMutablePointer(to: &carriedPayload) { carriedPayload in
        withUnsafeTemporaryAllocation(byteCount: 1024, alignment: 16) { scratch in
          var arena = ProtoArena(initial: scratch)
          var message = Kp__Wire__V1__Envelope()
          kp__wire__v1__envelope__init(&message)
          message.call_id = envelope.callId
          if let kind = envelope.kind { fill(&message, kind, carried: carriedPayload, in: &arena) }
          pack(&message, to: &buffer)
        }
      }
    }
  }

  /// Bytes for protobuf-c to pack where they lie; they must outlive the packing.
  private static func binary(_ data: UnsafeBufferPointer<UInt8>) -> ProtobufCBinaryData {
    ProtobufCBinaryData(
      len: data.count, data: data.isEmpty ? nil : UnsafeMutablePointer(mutating: data.baseAddress))
  }

  /// Appends one framed payload envelope.
  static func appendPayload(callID: UInt64, data: [UInt8], to buffer: inout [UInt8]) {
    var payload = Kp_Wire_V1_Payload()
    payload.data = data
    var envelope = Kp_Wire_V1_Envelope()
    envelope.callId = callID
    envelope.kind = .payload(payload)
    let written = CallEnvelopeWriter.append(envelope, to: &buffer)
    assert(written, "a payload envelope is always written directly")
  }

  private static func pack(_ message: inout Kp__Wire__V1__Envelope, to buffer: inout [UInt8]) {
    let size = kp__wire__v1__envelope__get_packed_size(&message)
    let start = buffer.count
    buffer.append(contentsOf: repeatElement(0, count: 4 + size))
    buffer.withUnsafeMutableBufferPointer { output in
      let base = output.baseAddress! + start
      base[0] = UInt8(truncatingIfNeeded: size >> 24)
      base[1] = UInt8(truncatingIfNeeded: size >> 16)
      base[2] = UInt8(truncatingIfNeeded: size >> 8)
      base[3] = UInt8(truncatingIfNeeded: size)
      if size > 0 { _ = kp__wire__v1__envelope__pack(&message, base + 4) }
    }
  }

  /// Fills protobuf-c's envelope from the Swift one. `carried` holds the bytes of the message a
  /// start or a status carries, when it carries one.
  private static func fill(
    _ message: inout Kp__Wire__V1__Envelope, _ kind: Kp_Wire_V1_Envelope.OneOf_Kind,
    carried: UnsafeMutablePointer<Kp__Wire__V1__Payload>, in arena: inout ProtoArena
  ) {
    switch kind {
    case .settings(let settings):
      let wire = make(Kp__Wire__V1__Settings.self, kp__wire__v1__settings__init, in: &arena)
      wire.pointee.max_frame_size = settings.maxFrameSize
      wire.pointee.max_concurrent_calls = settings.maxConcurrentCalls
      wire.pointee.initial_call_window = settings.initialCallWindow
      wire.pointee.min_ping_interval_ms = settings.minPingIntervalMs
      message.kind_case = KP__WIRE__V1__ENVELOPE__KIND_SETTINGS
      message.settings = wire
    case .start(let start):
      let wire = make(Kp__Wire__V1__CallStart.self, kp__wire__v1__call_start__init, in: &arena)
      setText(&wire.pointee.method, start.method, in: &arena)
      (wire.pointee.n_metadata, wire.pointee.metadata) = entries(start.metadata, in: &arena)
      wire.pointee.timeout_micros = start.timeoutMicros
      if start.firstMessage != nil { wire.pointee.first_message = carried }
      wire.pointee.half_close = start.halfClose ? 1 : 0
      message.kind_case = KP__WIRE__V1__ENVELOPE__KIND_START
      message.start = wire
    case .payload(let payload):
      let wire = make(Kp__Wire__V1__Payload.self, kp__wire__v1__payload__init, in: &arena)
      wire.pointee.data = copy(payload.data, in: &arena)
      message.kind_case = KP__WIRE__V1__ENVELOPE__KIND_PAYLOAD
      message.payload = wire
    case .halfClose:
      message.kind_case = KP__WIRE__V1__ENVELOPE__KIND_HALF_CLOSE
      message.half_close = make(
        Kp__Wire__V1__HalfClose.self, kp__wire__v1__half_close__init, in: &arena)
    case .cancel(let cancel):
      let wire = make(Kp__Wire__V1__Cancel.self, kp__wire__v1__cancel__init, in: &arena)
      setText(&wire.pointee.reason, cancel.reason, in: &arena)
      message.kind_case = KP__WIRE__V1__ENVELOPE__KIND_CANCEL
      message.cancel = wire
    case .status(let status):
      let wire = make(Kp__Wire__V1__Status.self, kp__wire__v1__status__init, in: &arena)
      wire.pointee.code = Kp__Wire__V1__StatusCode(
        rawValue: UInt32(bitPattern: status.code.rawValue))
      setText(&wire.pointee.message, status.message, in: &arena)
      (wire.pointee.n_trailers, wire.pointee.trailers) = entries(status.trailers, in: &arena)
      if status.lastMessage != nil { wire.pointee.last_message = carried }
      message.kind_case = KP__WIRE__V1__ENVELOPE__KIND_STATUS
      message.status = wire
    case .ping(let ping):
      let wire = make(Kp__Wire__V1__Ping.self, kp__wire__v1__ping__init, in: &arena)
      wire.pointee.opaque = ping.opaque
      message.kind_case = KP__WIRE__V1__ENVELOPE__KIND_PING
      message.ping = wire
    case .pong(let pong):
      let wire = make(Kp__Wire__V1__Pong.self, kp__wire__v1__pong__init, in: &arena)
      wire.pointee.opaque = pong.opaque
      message.kind_case = KP__WIRE__V1__ENVELOPE__KIND_PONG
      message.pong = wire
    case .goaway(let goAway):
      let wire = make(Kp__Wire__V1__GoAway.self, kp__wire__v1__go_away__init, in: &arena)
      wire.pointee.last_call_id = goAway.lastCallId
      wire.pointee.code = Kp__Wire__V1__StatusCode(
        rawValue: UInt32(bitPattern: goAway.code.rawValue))
      setText(&wire.pointee.reason, goAway.reason, in: &arena)
      message.kind_case = KP__WIRE__V1__ENVELOPE__KIND_GOAWAY
      message.goaway = wire
    case .windowUpdate(let update):
      let wire = make(
        Kp__Wire__V1__WindowUpdate.self, kp__wire__v1__window_update__init, in: &arena)
      wire.pointee.increment = update.increment
      message.kind_case = KP__WIRE__V1__ENVELOPE__KIND_WINDOW_UPDATE
      message.window_update = wire
    }
  }

  /// A C struct in arena memory, set to its defaults by protobuf-c's generated `init`.
  private static func make<T>(
    _ type: T.Type, _ initialize: (UnsafeMutablePointer<T>?) -> Void, in arena: inout ProtoArena
  ) -> UnsafeMutablePointer<T> {
    let memory = arena.allocate(byteCount: MemoryLayout<T>.stride).bindMemory(
      to: T.self, capacity: 1)
    initialize(memory)
    return memory
  }

  private static func entries(
    _ entries: [Kp_Wire_V1_MetadataEntry], in arena: inout ProtoArena
  ) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<Kp__Wire__V1__MetadataEntry>?>?) {
    guard !entries.isEmpty else { return (0, nil) }
    let array = arena.allocate(
      byteCount: entries.count * MemoryLayout<UnsafeMutableRawPointer>.stride
    ).bindMemory(
      to: UnsafeMutablePointer<Kp__Wire__V1__MetadataEntry>?.self, capacity: entries.count)
    for (index, entry) in entries.enumerated() {
      let wire = make(
        Kp__Wire__V1__MetadataEntry.self, kp__wire__v1__metadata_entry__init, in: &arena)
      setText(&wire.pointee.key, entry.key, in: &arena)
      switch entry.value {
      case .text(let text):
        wire.pointee.value_case = KP__WIRE__V1__METADATA_ENTRY__VALUE_TEXT
        wire.pointee.text = cString(text, in: &arena)
      case .binary(let binary):
        wire.pointee.value_case = KP__WIRE__V1__METADATA_ENTRY__VALUE_BINARY
        wire.pointee.binary = copy(binary, in: &arena)
      case nil:
        break
      }
      array[index] = wire
    }
    return (entries.count, array)
  }

  /// Sets a proto3 string field; an empty string keeps protobuf-c's default, which is not sent.
  private static func setText(
    _ field: inout UnsafeMutablePointer<CChar>?, _ value: String, in arena: inout ProtoArena
  ) {
    guard !value.isEmpty else { return }
    field = cString(value, in: &arena)
  }

  /// A NUL-terminated copy of a string in arena memory; an embedded NUL ends it, as in
  /// protobuf-c.
  private static func cString(_ value: String, in arena: inout ProtoArena)
    -> UnsafeMutablePointer<CChar>
  {
    var value = value
    return value.withUTF8 { utf8 in
      let copy = arena.allocate(byteCount: utf8.count + 1)
      if let base = utf8.baseAddress { copy.copyMemory(from: base, byteCount: utf8.count) }
      copy.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
      return copy.bindMemory(to: CChar.self, capacity: utf8.count + 1)
    }
  }

  private static func copy(_ bytes: [UInt8], in arena: inout ProtoArena) -> ProtobufCBinaryData {
    guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
    let copy = arena.allocate(byteCount: bytes.count)
    bytes.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    return ProtobufCBinaryData(len: bytes.count, data: copy.assumingMemoryBound(to: UInt8.self))
  }
}
