import KPProtocol
import Testing

@testable import KPRPC

@Suite("Frame decoder")
struct FrameDecoderTests {
  private func frame(_ body: [UInt8]) -> [UInt8] {
    let length = UInt32(body.count)
    return [
      UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF),
      UInt8(length & 0xFF),
    ] + body
  }

  private func drain(_ decoder: inout FrameDecoder) throws -> [[UInt8]] {
    var frames: [[UInt8]] = []
    while try decoder.nextFrame({ frames.append(Array($0)) }) {}
    return frames
  }

  @Test("splits several frames arriving in one read")
  func severalFramesInOneRead() throws {
    var decoder = FrameDecoder(maximumFrameSize: 1024)
    decoder.append(frame([1, 2, 3]) + frame([]) + frame([9]))
    #expect(try drain(&decoder) == [[1, 2, 3], [], [9]])
    #expect(decoder.bufferedByteCount == 0)
  }

  @Test("joins a frame arriving one byte at a time")
  func frameSplitAcrossReads() throws {
    var decoder = FrameDecoder(maximumFrameSize: 1024)
    let bytes = frame(Array(0..<200))
    var frames: [[UInt8]] = []
    for byte in bytes {
      decoder.append([byte])
      frames += try drain(&decoder)
    }
    #expect(frames == [Array(0..<200)])
  }

  @Test("waits on a truncated frame without returning it")
  func truncatedFrame() throws {
    var decoder = FrameDecoder(maximumFrameSize: 1024)
    decoder.append(Array(frame([1, 2, 3, 4, 5]).prefix(6)))
    #expect(try drain(&decoder).isEmpty)
    #expect(decoder.bufferedByteCount == 6)
  }

  @Test("refuses FF FF FF FF before buffering anything of the body")
  func oversizeLengthPrefix() {
    var decoder = FrameDecoder(maximumFrameSize: 4 * 1024 * 1024)
    decoder.append([0xFF, 0xFF, 0xFF, 0xFF])
    #expect(throws: FrameError.frameTooLarge(length: 0xFFFF_FFFF, maximum: 4 * 1024 * 1024)) {
      _ = try decoder.nextFrame { _ in }
    }
    #expect(decoder.bufferedByteCount == 4)
  }

  @Test("accepts a frame of exactly the maximum size and refuses one byte more")
  func maximumBoundary() throws {
    var decoder = FrameDecoder(maximumFrameSize: 16)
    decoder.append(frame([UInt8](repeating: 7, count: 16)))
    #expect(try drain(&decoder).count == 1)
    decoder.append(frame([UInt8](repeating: 7, count: 17)))
    #expect(throws: FrameError.self) { _ = try drain(&decoder) }
  }

  @Test("encoder and decoder agree on an envelope")
  func encodeDecodeEnvelope() throws {
    var envelope = Kp_Wire_V1_Envelope()
    envelope.callId = 42
    var payload = Kp_Wire_V1_Payload()
    payload.data = Array("grüße".utf8)
    envelope.kind = .payload(payload)

    var bytes: [UInt8] = []
    FrameEncoder.append(envelope, to: &bytes)
    FrameEncoder.append(envelope, to: &bytes)

    var decoder = FrameDecoder(maximumFrameSize: 1024)
    decoder.append(bytes)
    let frames = try drain(&decoder)
    #expect(frames.count == 2)
    #expect(try Kp_Wire_V1_Envelope(serializedBytes: frames[0]) == envelope)
  }

  @Test("random input never crashes the wire parsers", arguments: 0..<4)
  func randomInput(seed: Int) {
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<500 {
      let count = Int.random(in: 0..<300, using: &generator)
      var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
      if seed % 2 == 0, bytes.count > 4 {
        // Plausible length prefixes reach the envelope decoder more often.
        bytes[0] = 0
        bytes[1] = 0
        bytes[2] = 0
        bytes[3] = UInt8(min(bytes.count - 4, 255))
      }
      bytes.withUnsafeBytes { _ = WireInputExercise.run($0) }
    }
  }
}
