/// Strings read from protobuf-c's unpacked messages.
public enum ProtoText {
  /// The bytes as a string, or nil when they are not valid UTF-8.
  ///
  /// Text on the wire is nearly always ASCII, which is valid UTF-8 as it stands: it is checked
  /// a word at a time and taken without the standard library's validation, whose unspecialised
  /// code looks up generic type metadata at run time for every string.
  public static func string(_ utf8: UnsafeBufferPointer<UInt8>) -> String? {
    if isASCII(utf8) { return String(decoding: utf8, as: UTF8.self) }
    return String(validating: utf8, as: UTF8.self)
  }

  /// Whether every byte is below 0x80.
  static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress else { return true }
    let count = bytes.count
    var index = 0
    let raw = UnsafeRawPointer(base)
    while index + 8 <= count {
      if raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 {
        return false
      }
      index += 8
    }
    while index < count {
      if base[index] >= 0x80 { return false }
      index += 1
    }
    return true
  }
}
