import COpenSSL

/// Random bytes from OpenSSL's cryptographically secure generator.
public enum SecureRandom {
  /// Returns `count` random bytes.
  ///
  /// - Parameter count: How many bytes.
  /// - Returns: The bytes.
  /// - Throws: ``TokenError`` with code `keyFailure` when the generator is not seeded.
  public static func bytes(_ count: Int) throws(TokenError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    guard count > 0 else { return bytes }
    let status = bytes.withUnsafeMutableBytes { buffer in
      RAND_bytes(buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(count))
    }
    guard status == 1 else {
      throw TokenError(code: .keyFailure, message: "OpenSSL's random generator failed")
    }
    return bytes
  }

  /// Returns `count` random bytes as lowercase hexadecimal text (`2 * count` characters).
  ///
  /// - Parameter count: How many random bytes.
  /// - Returns: The hexadecimal text.
  /// - Throws: ``TokenError`` as ``bytes(_:)`` does.
  public static func hex(_ count: Int) throws(TokenError) -> String {
    Hex.encode(try bytes(count))
  }
}
