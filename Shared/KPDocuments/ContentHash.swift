import KPTokens

/// The SHA-256 of a normalised document's title and text: when it has not changed, neither has
/// anything search sees, and storing the document again is a no-op.
///
/// The digest covers the title's UTF-8 length as 8 big-endian bytes, the title's UTF-8 bytes,
/// then the text's UTF-8 bytes, so that no title and text can run into each other
/// (`"ab" + "c"` and `"a" + "bc"` differ).
public struct ContentHash: Sendable, Hashable, CustomStringConvertible {
  /// The 32 bytes of the digest.
  public let bytes: [UInt8]

  /// Hashes a title and a text.
  ///
  /// - Parameters:
  ///   - title: The document's title.
  ///   - text: The document's normalised text.
  public init(title: String, text: String) {
    let titleBytes = Array(title.utf8)
    var message: [UInt8] = []
    message.reserveCapacity(8 + titleBytes.count + text.utf8.count)
    let length = UInt64(titleBytes.count)
    for shift in stride(from: 56, through: 0, by: -8) {
      message.append(UInt8(truncatingIfNeeded: length >> UInt64(shift)))
    }
    message.append(contentsOf: titleBytes)
    message.append(contentsOf: text.utf8)
    bytes = SHA256.digest(message)
  }

  /// The digest as 64 lowercase hexadecimal digits.
  public var hex: String { Hex.encode(bytes) }

  /// The hexadecimal digest.
  public var description: String { hex }
}
