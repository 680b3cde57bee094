import COpenSSL

/// SHA-256 digests through OpenSSL.
public enum SHA256 {
  /// The digest of some bytes.
  ///
  /// - Parameter bytes: The input.
  /// - Returns: The 32-byte digest.
  public static func digest(_ bytes: [UInt8]) -> [UInt8] {
    var digest = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    let status = bytes.withUnsafeBytes { input in
      digest.withUnsafeMutableBytes { output in
        EVP_Digest(
          input.baseAddress, input.count,
          output.baseAddress?.assumingMemoryBound(to: UInt8.self), &length, EVP_sha256(), nil)
      }
    }
    // SHA-256 over memory fails only when OpenSSL cannot allocate, which it treats as fatal.
    precondition(status == 1 && length == 32, "EVP_Digest(SHA-256) failed")
    return digest
  }

  /// The digest of a string's UTF-8 bytes.
  ///
  /// - Parameter text: The input.
  /// - Returns: The 32-byte digest.
  public static func digest(_ text: String) -> [UInt8] {
    digest(Array(text.utf8))
  }
}
