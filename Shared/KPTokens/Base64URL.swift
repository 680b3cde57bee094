/// Base64url without padding (RFC 4648 section 5), as JSON Web Tokens use it.
public enum Base64URL {
  private static let alphabet = Array(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

  private static let values: [UInt8] = {
    var table = [UInt8](repeating: 0xFF, count: 256)
    for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index) }
    return table
  }()

  /// Encodes bytes without padding.
  ///
  /// - Parameter bytes: The bytes to encode.
  /// - Returns: The base64url text.
  public static func encode(_ bytes: some Collection<UInt8>) -> String {
    var output: [UInt8] = []
    output.reserveCapacity((bytes.count * 4 + 2) / 3)
    var buffer: UInt32 = 0
    var bits = 0
    for byte in bytes {
      buffer = (buffer << 8) | UInt32(byte)
      bits += 8
      while bits >= 6 {
        bits -= 6
        output.append(alphabet[Int((buffer >> UInt32(bits)) & 0x3F)])
      }
    }
    if bits > 0 {
      output.append(alphabet[Int((buffer << UInt32(6 - bits)) & 0x3F)])
    }
    return String(decoding: output, as: UTF8.self)
  }

  /// Decodes unpadded base64url strictly: padding, whitespace, characters outside the
  /// alphabet, an impossible length and non-zero trailing bits are all refused.
  ///
  /// - Parameter text: The base64url text.
  /// - Returns: The bytes, or `nil` when the text is not canonical base64url.
  public static func decode(_ text: some StringProtocol) -> [UInt8]? {
    let characters = Array(text.utf8)
    if characters.count % 4 == 1 { return nil }
    var output: [UInt8] = []
    output.reserveCapacity(characters.count * 3 / 4)
    var buffer: UInt32 = 0
    var bits = 0
    for character in characters {
      let value = values[Int(character)]
      if value == 0xFF { return nil }
      buffer = (buffer << 6) | UInt32(value)
      bits += 6
      if bits >= 8 {
        bits -= 8
        output.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
      }
    }
    // The bits left over must be zero, so that each byte string has one encoding.
    if bits > 0 && buffer & ((1 << UInt32(bits)) - 1) != 0 { return nil }
    return output
  }
}
