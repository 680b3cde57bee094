/// Lowercase hexadecimal text for bytes.
public enum Hex {
  private static let digits = Array("0123456789abcdef".utf8)

  /// Encodes bytes as lowercase hexadecimal.
  ///
  /// - Parameter bytes: The bytes.
  /// - Returns: Two characters per byte.
  public static func encode(_ bytes: some Collection<UInt8>) -> String {
    var output: [UInt8] = []
    output.reserveCapacity(bytes.count * 2)
    for byte in bytes {
      output.append(digits[Int(byte >> 4)])
      output.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: output, as: UTF8.self)
  }

  /// Decodes lowercase hexadecimal.
  ///
  /// - Parameter text: The text, an even number of `0-9a-f` characters.
  /// - Returns: The bytes, or `nil` for any other text.
  public static func decode(_ text: some StringProtocol) -> [UInt8]? {
    let characters = Array(text.utf8)
    guard characters.count % 2 == 0 else { return nil }
    var output: [UInt8] = []
    output.reserveCapacity(characters.count / 2)
    var index = 0
    while index < characters.count {
      guard let high = value(characters[index]), let low = value(characters[index + 1]) else {
        return nil
      }
      output.append(high << 4 | low)
      index += 2
    }
    return output
  }

  private static func value(_ character: UInt8) -> UInt8? {
    switch character {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
    default: nil
    }
  }
}
