import COpenSSL

/// An Ed25519 signing key held by OpenSSL.
///
/// The key is immutable once made and each signature uses a context of its own, so one key may
/// sign from many threads at once.
public final class Ed25519PrivateKey: @unchecked Sendable {
  /// The length of a private key's raw form (its seed) and of a public key: 32 bytes.
  public static let rawLength = 32

  // An EVP_PKEY that is only read after init; OpenSSL allows concurrent reads.
  let key: OpaquePointer

  private init(key: OpaquePointer) {
    self.key = key
  }

  deinit {
    EVP_PKEY_free(key)
  }

  /// Makes a new key from 32 bytes of OpenSSL's secure random generator.
  ///
  /// - Returns: The key.
  /// - Throws: ``TokenError`` with code `keyFailure`.
  public static func generate() throws(TokenError) -> Ed25519PrivateKey {
    var seed = try SecureRandom.bytes(rawLength)
    defer { OPENSSL_cleanse(&seed, seed.count) }
    return try Ed25519PrivateKey(rawRepresentation: seed)
  }

  /// Reads a key from its 32-byte raw form, as ``rawRepresentation`` gives it.
  ///
  /// - Parameter raw: The seed.
  /// - Throws: ``TokenError`` with code `keyFailure` when the bytes are not a key.
  public convenience init(rawRepresentation raw: [UInt8]) throws(TokenError) {
    guard raw.count == Self.rawLength else {
      throw TokenError(
        code: .keyFailure,
        message: "an Ed25519 private key is \(Self.rawLength) bytes, not \(raw.count)")
    }
    let made = raw.withUnsafeBytes { bytes in
      EVP_PKEY_new_raw_private_key(
        EVP_PKEY_ED25519, nil, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
    }
    guard let made else {
      ERR_clear_error()
      throw TokenError(code: .keyFailure, message: "OpenSSL refused the Ed25519 private key")
    }
    self.init(key: made)
  }

  /// The 32-byte raw form (the seed); whoever holds it can sign. Store it encrypted.
  public var rawRepresentation: [UInt8] {
    var raw = [UInt8](repeating: 0, count: Self.rawLength)
    var length = raw.count
    let status = raw.withUnsafeMutableBytes { bytes in
      EVP_PKEY_get_raw_private_key(
        key, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), &length)
    }
    precondition(status == 1 && length == Self.rawLength, "an Ed25519 key has a raw form")
    return raw
  }

  /// The matching public key.
  public var publicKey: Ed25519PublicKey {
    var raw = [UInt8](repeating: 0, count: Self.rawLength)
    var length = raw.count
    let status = raw.withUnsafeMutableBytes { bytes in
      EVP_PKEY_get_raw_public_key(
        key, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), &length)
    }
    precondition(status == 1 && length == Self.rawLength, "an Ed25519 key has a public key")
    // 32 bytes of a key OpenSSL already accepted are always a valid public key.
    return try! Ed25519PublicKey(rawRepresentation: raw)
  }

  /// Signs a message (pure Ed25519: the message itself, no separate digest).
  ///
  /// - Parameter message: The bytes to sign.
  /// - Returns: The 64-byte signature.
  /// - Throws: ``TokenError`` with code `keyFailure` when OpenSSL fails.
  public func signature(for message: [UInt8]) throws(TokenError) -> [UInt8] {
    guard let context = EVP_MD_CTX_new() else {
      throw TokenError(code: .keyFailure, message: "OpenSSL could not allocate a signing context")
    }
    defer { EVP_MD_CTX_free(context) }
    guard EVP_DigestSignInit(context, nil, nil, nil, key) == 1 else {
      ERR_clear_error()
      throw TokenError(code: .keyFailure, message: "OpenSSL could not start an Ed25519 signature")
    }
    var signature = [UInt8](repeating: 0, count: Ed25519PublicKey.signatureLength)
    var length = signature.count
    let status = message.withUnsafeBytes { input in
      signature.withUnsafeMutableBytes { output in
        EVP_DigestSign(
          context, output.baseAddress?.assumingMemoryBound(to: UInt8.self), &length,
          input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count)
      }
    }
    guard status == 1, length == Ed25519PublicKey.signatureLength else {
      ERR_clear_error()
      throw TokenError(code: .keyFailure, message: "OpenSSL could not make an Ed25519 signature")
    }
    return signature
  }
}
