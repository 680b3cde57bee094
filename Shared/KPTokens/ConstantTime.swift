import COpenSSL

/// Comparisons of secrets that take the same time whatever the bytes, so timing reveals nothing
/// about where two values first differ.
public enum ConstantTime {
  /// Whether two byte strings are equal, in time that depends only on their lengths.
  ///
  /// - Parameters:
  ///   - lhs: One value, such as a stored hash.
  ///   - rhs: The other value, such as the hash of what a caller presented.
  /// - Returns: `true` when both have the same length and bytes.
  public static func equals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    if lhs.isEmpty { return true }
    return lhs.withUnsafeBytes { left in
      rhs.withUnsafeBytes { right in
        CRYPTO_memcmp(left.baseAddress, right.baseAddress, left.count) == 0
      }
    }
  }
}
