import KPProtoRuntime
import KPProtocol
import Testing

@Suite("protobuf-c writes the real wire format")
struct WireFormatTests {
  @Test func anEnvelopeMatchesHandComputedBytes() throws {
    var ping = Kp_Wire_V1_Ping()
    ping.opaque = 5
    var envelope = Kp_Wire_V1_Envelope()
    envelope.callId = 300
    envelope.kind = .ping(ping)
    // call_id = 300: tag 0x08, varint 0xAC 0x02; ping (8, length-delimited): tag 0x42,
    // length 2, then opaque = 5: tag 0x08, varint 0x05.
    let expected: [UInt8] = [0x08, 0xAC, 0x02, 0x42, 0x02, 0x08, 0x05]
    #expect(envelope.serializedBytes() == expected)
    #expect(try Kp_Wire_V1_Envelope(serializedBytes: expected) == envelope)
  }

  @Test func scalarEncodingsMatchHandComputedBytes() throws {
    var message = Kp_Testing_V1_AllKinds()
    message.text = "é"
    message.s32 = -1
    message.f32 = 1
    message.color = .blue
    message.numbers = [1, 2]
    message.labels = ["a": "b"]
    let expected: [UInt8] = [
      0x0A, 0x02, 0xC3, 0xA9,  // text (1): "é" in UTF-8
      0x40, 0x01,  // s32 (8): zigzag(-1) = 1
      0x55, 0x01, 0x00, 0x00, 0x00,  // f32 (10): fixed32, little-endian
      0x80, 0x01, 0x03,  // color (16): two-byte tag, COLOR_BLUE = 3
      0x92, 0x01, 0x02, 0x01, 0x02,  // numbers (18): packed varints
      0xBA, 0x01, 0x06, 0x0A, 0x01, 0x61, 0x12, 0x01, 0x62,  // labels (23): one entry
    ]
    #expect(message.serializedBytes() == expected)
    #expect(try Kp_Testing_V1_AllKinds(serializedBytes: expected) == message)
  }

  @Test func unpackedRepeatedScalarsAreAccepted() throws {
    // numbers (18) as two separate varint fields instead of one packed run.
    let bytes: [UInt8] = [0x90, 0x01, 0x07, 0x90, 0x01, 0x08]
    #expect(try Kp_Testing_V1_AllKinds(serializedBytes: bytes).numbers == [7, 8])
  }

  @Test func unknownFieldsAreSkipped() throws {
    // Field 99 (varint) then Ping.opaque = 1.
    let bytes: [UInt8] = [0x98, 0x06, 0x01, 0x08, 0x01]
    #expect(try Kp_Wire_V1_Ping(serializedBytes: bytes).opaque == 1)
  }
}
