import KPProtoRuntime
import KPProtocol
import Testing

@testable import KPRPC

/// The runtime's envelope codec against the generic protobuf-c path it stands in for: the same
/// bytes out, the same envelopes in, the same refusals.
@Suite("Envelope codec")
struct EnvelopeCodecTests {
  static func entry(_ key: String, _ value: Kp_Wire_V1_MetadataEntry.OneOf_Value?)
    -> Kp_Wire_V1_MetadataEntry
  {
    var entry = Kp_Wire_V1_MetadataEntry()
    entry.key = key
    entry.value = value
    return entry
  }

  static let kinds: [Kp_Wire_V1_Envelope.OneOf_Kind?] = {
    var settings = Kp_Wire_V1_Settings()
    settings.maxFrameSize = 4 << 20
    settings.maxConcurrentCalls = 1_000
    settings.initialCallWindow = 1 << 20
    settings.minPingIntervalMs = 10_000

    var start = Kp_Wire_V1_CallStart()
    start.method = "/kp.knowledge.v1.Knowledge/Search"
    start.timeoutMicros = 199_998
    start.metadata = [
      entry("kp-trace-id", .text("0123456789abcdef0123456789abcdef")),
      entry("blob-bin", .binary([0, 1, 2, 255])), entry("empty", .text("")),
      entry("empty-bin", .binary([])), entry("no-value", nil), entry("", .text("ünïcode ✓")),
    ]

    var payload = Kp_Wire_V1_Payload()
    payload.data = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 31) }

    var cancel = Kp_Wire_V1_Cancel()
    cancel.reason = "the client cancelled the call"

    var status = Kp_Wire_V1_Status()
    status.code = .resourceExhausted
    status.message = "too many calls"
    status.trailers = [entry("retry-after", .text("1")), entry("detail-bin", .binary([9]))]
    var carrying = Kp_Wire_V1_CallStart()
    carrying.method = "/kp.testing.v1.Echo/Echo"
    carrying.firstMessage = payload
    carrying.halfClose = true
    var emptyFirst = Kp_Wire_V1_CallStart()
    emptyFirst.firstMessage = Kp_Wire_V1_Payload()
    var halfClosedStart = Kp_Wire_V1_CallStart()
    halfClosedStart.halfClose = true
    var answered = Kp_Wire_V1_Status()
    answered.lastMessage = payload
    var emptyLast = Kp_Wire_V1_Status()
    emptyLast.lastMessage = Kp_Wire_V1_Payload()
    var unknownCode = Kp_Wire_V1_Status()
    unknownCode.code = Kp_Wire_V1_StatusCode(rawValue: -7)

    var ping = Kp_Wire_V1_Ping()
    ping.opaque = .max
    var pong = Kp_Wire_V1_Pong()
    pong.opaque = 1
    var goAway = Kp_Wire_V1_GoAway()
    goAway.lastCallId = 1 << 40
    goAway.code = .unavailable
    goAway.reason = "the server is shutting down"
    var window = Kp_Wire_V1_WindowUpdate()
    window.increment = .max

    return [
      nil, .settings(settings), .settings(Kp_Wire_V1_Settings()), .start(start),
      .start(Kp_Wire_V1_CallStart()), .payload(payload), .payload(Kp_Wire_V1_Payload()),
      .halfClose(Kp_Wire_V1_HalfClose()), .cancel(cancel), .cancel(Kp_Wire_V1_Cancel()),
      .status(status), .status(Kp_Wire_V1_Status()), .status(unknownCode), .ping(ping),
      .pong(pong), .goaway(goAway), .windowUpdate(window), .start(carrying), .start(emptyFirst),
      .start(halfClosedStart), .status(answered), .status(emptyLast),
    ]
  }()

  private static func envelope(_ kind: Kp_Wire_V1_Envelope.OneOf_Kind?, id: UInt64 = 7)
    -> Kp_Wire_V1_Envelope
  {
    var envelope = Kp_Wire_V1_Envelope()
    envelope.callId = id
    envelope.kind = kind
    return envelope
  }

  private static func framed(_ envelope: Kp_Wire_V1_Envelope) -> [UInt8] {
    var bytes: [UInt8] = []
    EnvelopeCodec.append(envelope, to: &bytes)
    return bytes
  }

  @Test("every kind encodes to the generic path's bytes and reads back", arguments: kinds)
  func sameBytes(kind: Kp_Wire_V1_Envelope.OneOf_Kind?) throws {
    for id: UInt64 in [0, 1, 300, .max] {
      let envelope = Self.envelope(kind, id: id)
      var expected: [UInt8] = []
      FrameEncoder.append(envelope, to: &expected)
      let bytes = Self.framed(envelope)
      #expect(bytes == expected)

      let body = Array(bytes.dropFirst(4))
      let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
      #expect(length == body.count)
      let decoded = try body.withUnsafeBytes { try EnvelopeCodec.decode($0) }
      #expect(decoded == envelope)
      #expect(decoded == (try Kp_Wire_V1_Envelope(serializedBytes: body)))
    }
  }

  @Test("a payload frame packed in place equals the general encoding")
  func payloadInPlace() {
    for count in [0, 1, 100, 70_000] {
      let data = (0..<count).map { UInt8(truncatingIfNeeded: $0) }
      var payload = Kp_Wire_V1_Payload()
      payload.data = data
      var direct: [UInt8] = [0xEE]
      EnvelopeCodec.appendPayload(callID: 9, data: data, to: &direct)
      var expected: [UInt8] = [0xEE]
      FrameEncoder.append(Self.envelope(.payload(payload), id: 9), to: &expected)
      #expect(direct == expected)
    }
  }

  @Test("strings that are not UTF-8 are refused as the generic path refuses them")
  func invalidUTF8() throws {
    // Envelope{call_id: 1, start: CallStart{method: 0xC3 0x28}}
    let body: [UInt8] = [0x08, 0x01, 0x1A, 0x04, 0x0A, 0x02, 0xC3, 0x28]
    #expect(throws: FrameError.self) { try body.withUnsafeBytes { try EnvelopeCodec.decode($0) } }
    #expect(throws: ProtoError.self) { try Kp_Wire_V1_Envelope(serializedBytes: body) }
    let agree = body.withUnsafeBytes { WireInputExercise.codecsAgree($0) }
    #expect(agree)
  }

  @Test("an embedded NUL ends a string on both paths, as protobuf-c's strings end")
  func embeddedNUL() throws {
    // Envelope{call_id: 2, cancel: Cancel{reason: "ab\0cd"}}
    let body: [UInt8] = [0x08, 0x02, 0x32, 0x07, 0x0A, 0x05, 0x61, 0x62, 0x00, 0x63, 0x64]
    let decoded = try body.withUnsafeBytes { try EnvelopeCodec.decode($0) }
    #expect(
      decoded.kind
        == .cancel(
          {
            var c = Kp_Wire_V1_Cancel()
            c.reason = "ab"
            return c
          }()))
    #expect(decoded == (try Kp_Wire_V1_Envelope(serializedBytes: body)))
  }

  @Test("unknown fields are skipped and truncated input is refused, as on the generic path")
  func unknownAndTruncated() throws {
    // Envelope{call_id: 3, field 99 (varint): 5, ping: Ping{opaque: 4}}
    let body: [UInt8] = [0x08, 0x03, 0x98, 0x06, 0x05, 0x42, 0x02, 0x08, 0x04]
    let decoded = try body.withUnsafeBytes { try EnvelopeCodec.decode($0) }
    #expect(decoded.callId == 3)
    #expect(
      decoded.kind
        == .ping(
          {
            var p = Kp_Wire_V1_Ping()
            p.opaque = 4
            return p
          }()))
    for end in 1..<body.count {
      let prefix = Array(body[..<end])
      let agree = prefix.withUnsafeBytes { WireInputExercise.codecsAgree($0) }
      #expect(agree, "prefix of \(end) bytes")
    }
  }

  /// Whether the envelopes every call sends take the direct path: start, payload, half-close
  /// and status, unless a string holds a NUL or the status code is negative.
  private static func isDirect(_ kind: Kp_Wire_V1_Envelope.OneOf_Kind?) -> Bool {
    switch kind {
    case .start, .payload, .halfClose: true
    case .status(let status): status.code.rawValue >= 0
    default: false
    }
  }

  @Test("the envelopes every call sends are read and written directly, others through protobuf-c")
  func directPath() {
    var direct = 0
    for kind in Self.kinds {
      for id: UInt64 in [0, 1, 300, .max] {
        let envelope = Self.envelope(kind, id: id)
        var expected: [UInt8] = []
        FrameEncoder.append(envelope, to: &expected)
        var written: [UInt8] = [0xEE]
        let wrote = CallEnvelopeWriter.append(envelope, to: &written)
        let body = Array(expected.dropFirst(4))
        let read = body.withUnsafeBytes { CallEnvelopeReader.read($0) }
        if Self.isDirect(kind) {
          direct += 1
          #expect(wrote)
          #expect(written == [0xEE] + expected)
          #expect(read == envelope)
        } else {
          #expect(!wrote)
          #expect(written == [0xEE])
          #expect(read == nil)
        }
      }
    }
    #expect(direct == 4 * 12)
  }

  @Test(
    "spellings an encoder does not write are left to protobuf-c and read as it reads them",
    arguments: [
      // CallStart{timeout_micros: 5, method: "/a.B/C"}: fields out of order.
      [0x08, 0x01, 0x1A, 0x0A, 0x18, 0x05, 0x0A, 0x06, 0x2F, 0x61, 0x2E, 0x42, 0x2F, 0x43],
      // CallStart{method: "/a", method: "/b"}: a field twice.
      [0x08, 0x01, 0x1A, 0x08, 0x0A, 0x02, 0x2F, 0x61, 0x0A, 0x02, 0x2F, 0x62],
      // CallStart{field 9: 1, method: ...}: an unknown field.
      [0x08, 0x01, 0x1A, 0x06, 0x48, 0x01, 0x0A, 0x02, 0x2F, 0x61],
      // CallStart{half_close: 2}: a boolean other than 0 or 1.
      [0x08, 0x01, 0x1A, 0x02, 0x28, 0x02],
      // Status{code: 4} with the tag spelled in two bytes.
      [0x08, 0x01, 0xBA, 0x00, 0x02, 0x08, 0x04],
      // Status{code: -1}: ten bytes.
      [0x08, 0x01, 0x3A, 0x0B, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
      // CallStart{method: "/a\0b"}: a NUL inside a string.
      [0x08, 0x01, 0x1A, 0x06, 0x0A, 0x04, 0x2F, 0x61, 0x00, 0x62],
      // MetadataEntry{text: "x", binary: "y"}: both values.
      [0x08, 0x01, 0x1A, 0x08, 0x12, 0x06, 0x12, 0x01, 0x78, 0x1A, 0x01, 0x79],
      // A half-close, then call_id: a field after the kind.
      [0x2A, 0x00, 0x08, 0x01],
      // Two kinds: a half-close, then a payload.
      [0x08, 0x01, 0x2A, 0x00, 0x22, 0x00],
      // Payload{data} with its length spelled in five bytes.
      [0x08, 0x01, 0x22, 0x07, 0x0A, 0x81, 0x80, 0x80, 0x80, 0x00, 0x41],
    ] as [[UInt8]])
  func leftToProtobufC(body: [UInt8]) {
    let read = body.withUnsafeBytes { CallEnvelopeReader.read($0) }
    #expect(read == nil)
    let agree = body.withUnsafeBytes { WireInputExercise.codecsAgree($0) }
    #expect(agree)
  }

  @Test("random and mutated inputs are read alike on both paths")
  func differential() {
    var generator = SplitMix(seed: 0x6B70_2F31)
    let seeds = Self.kinds.map { Array(Self.framed(Self.envelope($0)).dropFirst(4)) }
    var disagreements: [[UInt8]] = []
    var decoded = 0
    var direct = 0
    for round in 0..<20_000 {
      var input: [UInt8]
      if round % 2 == 0 {
        input = seeds[Int(generator.next() % UInt64(seeds.count))]
        for _ in 0..<(1 + Int(generator.next() % 4)) where !input.isEmpty {
          let index = Int(generator.next() % UInt64(input.count))
          switch generator.next() % 3 {
          case 0: input[index] = UInt8(truncatingIfNeeded: generator.next())
          case 1: input.remove(at: index)
          default: input.insert(UInt8(truncatingIfNeeded: generator.next()), at: index)
          }
        }
      } else {
        input = (0..<Int(generator.next() % 48)).map { _ in
          UInt8(truncatingIfNeeded: generator.next())
        }
      }
      let agree = input.withUnsafeBytes { WireInputExercise.codecsAgree($0) }
      if !agree { disagreements.append(input) }
      if (try? input.withUnsafeBytes({ try EnvelopeCodec.decode($0) })) != nil { decoded += 1 }
      if input.withUnsafeBytes({ CallEnvelopeReader.read($0) }) != nil { direct += 1 }
    }
    #expect(disagreements.isEmpty, "first disagreement: \(disagreements.first ?? [])")
    // Both outcomes are exercised: many inputs decode, many are refused.
    #expect(decoded > 500 && decoded < 19_500, "\(decoded) of 20,000 decoded")
    // The direct reader takes part: it read a good share of what decoded.
    #expect(direct > 300, "\(direct) of \(decoded) read directly")
  }
}

/// A small deterministic generator, so a failure repeats.
private struct SplitMix {
  var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
