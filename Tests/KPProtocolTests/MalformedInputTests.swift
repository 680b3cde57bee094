import KPProtoRuntime
import KPProtocol
import Testing

@Suite("Malformed input gives an error, never a crash")
struct MalformedInputTests {
  static func decodeError<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8]) -> ProtoError? {
    do {
      _ = try M(serializedBytes: bytes)
      return nil
    } catch {
      return error
    }
  }

  @Test func truncatedInputIsRefused() throws {
    var payload = Kp_Wire_V1_Payload()
    payload.data = Array(repeating: 1, count: 200)
    let bytes = payload.serializedBytes()
    for length in 1..<bytes.count {
      let error = Self.decodeError(Kp_Wire_V1_Payload.self, Array(bytes.prefix(length)))
      #expect(error?.code == .malformed, "prefix of \(length) bytes")
    }
  }

  @Test func truncatedNestedMessagesAreRefused() throws {
    let bytes = AllKindsRoundTripTests.everything().serializedBytes()
    var refused = 0
    for length in stride(from: 1, to: bytes.count, by: 7) {
      do {
        _ = try Kp_Testing_V1_AllKinds(serializedBytes: Array(bytes.prefix(length)))
      } catch {
        #expect(error.code == .malformed || error.code == .invalidUTF8)
        refused += 1
      }
    }
    #expect(refused > 0)
  }

  @Test(
    "A field with the wrong wire type is refused",
    arguments: [
      // call_id (varint) sent as length-delimited.
      [0x0A, 0x01, 0x00],
      // call_id sent as fixed32.
      [0x0D, 0x01, 0x00, 0x00, 0x00],
      // settings (a message) sent as a varint.
      [0x10, 0x01],
    ] as [[UInt8]])
  func wrongWireType(bytes: [UInt8]) {
    #expect(Self.decodeError(Kp_Wire_V1_Envelope.self, bytes)?.code == .malformed)
  }

  @Test func aStringFieldSentAsAVarintIsRefused() {
    #expect(Self.decodeError(Kp_Wire_V1_CallStart.self, [0x08, 0x01])?.code == .malformed)
  }

  @Test(
    "A length beyond the end of the input is refused",
    arguments: [
      [0x0A, 0x64, 0x01, 0x02, 0x03],
      [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01],
      [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00],
      [0x0A, 0x80],
    ] as [[UInt8]])
  func oversizeLength(bytes: [UInt8]) {
    #expect(Self.decodeError(Kp_Wire_V1_Payload.self, bytes)?.code == .malformed)
  }

  @Test func anOversizeLengthInsideANestedMessageIsRefused() {
    // Envelope.payload (field 4) of 3 bytes holding Payload.data claiming 50 bytes.
    let bytes: [UInt8] = [0x22, 0x03, 0x0A, 0x32, 0x00]
    #expect(Self.decodeError(Kp_Wire_V1_Envelope.self, bytes)?.code == .malformed)
  }

  @Test func invalidUTF8InAStringIsRefused() {
    let error = Self.decodeError(Kp_Health_V1_HealthCheckRequest.self, [0x0A, 0x02, 0xC3, 0x28])
    #expect(error?.code == .invalidUTF8)
    #expect(error?.message.contains("service") == true)
  }

  @Test func invalidUTF8InARepeatedNestedStringIsRefused() {
    // AllKinds.points (21) holding a Point whose label (3) is a lone continuation byte.
    let bytes: [UInt8] = [0xAA, 0x01, 0x03, 0x1A, 0x01, 0x80]
    #expect(Self.decodeError(Kp_Testing_V1_AllKinds.self, bytes)?.code == .invalidUTF8)
  }

  @Test func randomGarbageNeverCrashes() {
    var generator = SplitMix64(seed: 0x4B50_7072_6F74_6F)
    var refused = 0
    for round in 0..<2_000 {
      let count = Int(generator.next() % 64)
      let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
      for decode in [Self.decodeEnvelope, Self.decodeAllKinds] {
        if !decode(bytes) {
          refused += 1
        }
      }
      _ = round
    }
    #expect(refused > 2_000)
  }

  static func decodeEnvelope(_ bytes: [UInt8]) -> Bool {
    guard let message = try? Kp_Wire_V1_Envelope(serializedBytes: bytes) else { return false }
    return (try? Kp_Wire_V1_Envelope(serializedBytes: message.serializedBytes())) == message
  }

  static func decodeAllKinds(_ bytes: [UInt8]) -> Bool {
    guard let message = try? Kp_Testing_V1_AllKinds(serializedBytes: bytes) else { return false }
    _ = message.serializedBytes()
    return true
  }
}

/// A small deterministic random generator, so a failure can be reproduced.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64

  init(seed: UInt64) {
    state = seed
  }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var value = state
    value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
    value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
    return value ^ (value >> 31)
  }
}
