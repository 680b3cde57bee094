import KPProtoRuntime
import Testing

/// Text read from the wire: the same answer as the standard library's validation, on either
/// side of the ASCII fast path.
@Suite("Text from the wire")
struct ProtoTextTests {
  private static func read(_ bytes: [UInt8]) -> String? {
    bytes.withUnsafeBufferPointer { ProtoText.string($0) }
  }

  @Test("ASCII, multi-byte and invalid text, with the odd byte at every position")
  func everyPosition() {
    #expect(Self.read([]) == "")
    #expect(Self.read(Array("/kp.testing.v1.Echo/Echo".utf8)) == "/kp.testing.v1.Echo/Echo")
    #expect(Self.read(Array("Grüße, 日本語 🙂".utf8)) == "Grüße, 日本語 🙂")

    for length in [1, 7, 8, 9, 15, 16, 17, 33] {
      for position in 0..<length {
        var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
        bytes[position] = 0xFF
        #expect(Self.read(bytes) == nil, "0xFF at \(position) of \(length)")

        var accented = Array(String(repeating: "a", count: length).utf8)
        accented.replaceSubrange(position..<position + 1, with: Array("é".utf8))
        let expected = String(decoding: accented, as: UTF8.self)
        #expect(Self.read(accented) == expected, "é at \(position) of \(length)")

        // A lone continuation byte and a truncated sequence are refused too.
        bytes[position] = 0x80
        #expect(Self.read(bytes) == nil, "0x80 at \(position) of \(length)")
        #expect(Self.read(Array(accented[0...position])) == nil, "é cut at \(position)")
      }
    }
  }
}
