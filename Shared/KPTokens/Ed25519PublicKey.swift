import COpenSSL

/// An Ed25519 public key held by OpenSSL, which verifies signatures.
public final class Ed25519PublicKey: @unchecked Sendable, Equatable {
  /// The length of an Ed25519 signature: 64 bytes.
  public static let signatureLength = 64

  // An EVP_PKEY that is only read after init; OpenSSL allows concurrent reads.
  private let key: OpaquePointer

  /// The 32-byte raw public key.
  public let rawRepresentation: [UInt8]

  private init(key: OpaquePointer, raw: [UInt8]) {
    self.key = key
    self.rawRepresentation = raw
  }

  deinit {
    EVP_PKEY_free(key)
  }

  /// Reads a key from its 32 raw bytes.
  ///
  /// - Parameter raw: The public key.
  /// - Throws: ``TokenError`` with code `keyFailure` when the bytes are not a key.
  public convenience init(rawRepresentation raw: [UInt8]) throws(TokenError) {
    guard raw.count == Ed25519PrivateKey.rawLength else {
      throw TokenError(
        code: .keyFailure,
        message: "an Ed25519 public key is \(Ed25519PrivateKey.rawLength) bytes, not \(raw.count)")
    }
    let made = raw.withUnsafeBytes { bytes in
      EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nil, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
    }
    guard let made else {
      ERR_clear_error()
      throw TokenError(code: .keyFailure, message: "OpenSSL refused the Ed25519 public key")
    }
    self.init(key: made, raw: raw)
  }

  /// Reads a key from a DER-encoded SubjectPublicKeyInfo, as ``derRepresentation`` gives it.
  ///
  /// - Parameter der: The encoded key.
  /// - Throws: ``TokenError`` with code `keyFailure` when the bytes are not an Ed25519 key.
  public convenience init(derRepresentation der: [UInt8]) throws(TokenError) {
    let decoded: OpaquePointer? = der.withUnsafeBytes { bytes in
      guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
        return nil
      }
      var cursor: UnsafePointer<UInt8>? = base
      let key = d2i_PUBKEY(nil, &cursor, bytes.count)
      // Trailing bytes after the structure make the encoding ambiguous: refuse them.
      if let key, cursor != base + bytes.count {
        EVP_PKEY_free(key)
        return nil
      }
      return key
    }
    guard let decoded else {
      ERR_clear_error()
      throw TokenError(code: .keyFailure, message: "the bytes are not a DER public key")
    }
    defer { EVP_PKEY_free(decoded) }
    guard EVP_PKEY_get_id(decoded) == EVP_PKEY_ED25519 else {
      throw TokenError(code: .keyFailure, message: "the public key is not an Ed25519 key")
    }
    var raw = [UInt8](repeating: 0, count: Ed25519PrivateKey.rawLength)
    var length = raw.count
    let status = raw.withUnsafeMutableBytes { buffer in
      EVP_PKEY_get_raw_public_key(
        decoded, buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), &length)
    }
    guard status == 1, length == raw.count else {
      ERR_clear_error()
      throw TokenError(code: .keyFailure, message: "OpenSSL could not read the public key")
    }
    try self.init(rawRepresentation: raw)
  }

  /// The key as a DER-encoded SubjectPublicKeyInfo, the form ``SigningKeySet`` publishes.
  public var derRepresentation: [UInt8] {
    var output: UnsafeMutablePointer<UInt8>?
    let length = i2d_PUBKEY(key, &output)
    precondition(length > 0 && output != nil, "OpenSSL could not encode an Ed25519 public key")
    defer { CRYPTO_free(output, #fileID, #line) }
    return Array(UnsafeBufferPointer(start: output, count: Int(length)))
  }

  /// Whether `signature` is this key's Ed25519 signature of `message`.
  ///
  /// - Parameters:
  ///   - signature: The signature, 64 bytes.
  ///   - message: The signed bytes.
  /// - Returns: `true` only for a valid signature.
  public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
    guard signature.count == Self.signatureLength, let context = EVP_MD_CTX_new() else {
      return false
    }
    defer { EVP_MD_CTX_free(context) }
    guard EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1 else {
      ERR_clear_error()
      return false
    }
    let status = signature.withUnsafeBytes { signatureBytes in
      message.withUnsafeBytes { messageBytes in
        EVP_DigestVerify(
          context, signatureBytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
          signatureBytes.count, messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
          messageBytes.count)
      }
    }
    if status != 1 { ERR_clear_error() }
    return status == 1
  }

  public static func == (lhs: Ed25519PublicKey, rhs: Ed25519PublicKey) -> Bool {
    lhs.rawRepresentation == rhs.rawRepresentation
  }
}
