import COpenSSL
import KPTokens

/// Encrypts signing keys at rest with AES-256-GCM under a key-encryption key from
/// configuration, so a copy of the database alone cannot sign tokens.
///
/// A sealed value is a 12-byte random nonce, the ciphertext and a 16-byte tag; the key id is
/// bound as additional data, so a sealed key cannot be swapped onto another id.
struct KeySealer: Sendable {
  /// The key-encryption key's length: 32 bytes.
  static let keyLength = 32
  private static let nonceLength = 12
  private static let tagLength = 16

  private let key: [UInt8]

  /// Creates a sealer.
  ///
  /// - Parameter key: 32 bytes.
  /// - Throws: ``AuthError`` `invalidArgument` for another length.
  init(key: [UInt8]) throws(AuthError) {
    guard key.count == Self.keyLength else {
      throw AuthError(
        .invalidArgument, "the key-encryption key must be \(Self.keyLength) bytes")
    }
    self.key = key
  }

  /// Encrypts and authenticates `plaintext`, bound to `context`.
  func seal(_ plaintext: [UInt8], context: String) throws(AuthError) -> [UInt8] {
    let nonce: [UInt8]
    do {
      nonce = try SecureRandom.bytes(Self.nonceLength)
    } catch {
      throw AuthError(.internalFailure, "the random generator failed")
    }
    guard let cipher = EVP_CIPHER_CTX_new() else {
      throw AuthError(.internalFailure, "OpenSSL could not allocate a cipher context")
    }
    defer { EVP_CIPHER_CTX_free(cipher) }
    let aad = Array(context.utf8)
    var output = [UInt8](repeating: 0, count: plaintext.count + 16)
    var tag = [UInt8](repeating: 0, count: Self.tagLength)
    var length: Int32 = 0
    var total: Int32 = 0
    let ok =
      EVP_EncryptInit_ex(cipher, EVP_aes_256_gcm(), nil, key, nonce) == 1
      && EVP_EncryptUpdate(cipher, nil, &length, aad, Int32(aad.count)) == 1
      && EVP_EncryptUpdate(cipher, &output, &length, plaintext, Int32(plaintext.count)) == 1
      && {
        total = length
        return output.withUnsafeMutableBufferPointer { buffer in
          EVP_EncryptFinal_ex(cipher, buffer.baseAddress! + Int(total), &length) == 1
        }
      }()
      && EVP_CIPHER_CTX_ctrl(cipher, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagLength), &tag) == 1
    guard ok else {
      ERR_clear_error()
      throw AuthError(.internalFailure, "OpenSSL could not encrypt a signing key")
    }
    total += length
    return nonce + output.prefix(Int(total)) + tag
  }

  /// Decrypts a sealed value, checking its tag and its binding to `context`.
  func open(_ sealed: [UInt8], context: String) throws(AuthError) -> [UInt8] {
    guard sealed.count >= Self.nonceLength + Self.tagLength else {
      throw AuthError(.internalFailure, "a sealed signing key is truncated")
    }
    let nonce = Array(sealed.prefix(Self.nonceLength))
    var tag = Array(sealed.suffix(Self.tagLength))
    let body = Array(sealed.dropFirst(Self.nonceLength).dropLast(Self.tagLength))
    guard let cipher = EVP_CIPHER_CTX_new() else {
      throw AuthError(.internalFailure, "OpenSSL could not allocate a cipher context")
    }
    defer { EVP_CIPHER_CTX_free(cipher) }
    let aad = Array(context.utf8)
    var output = [UInt8](repeating: 0, count: body.count + 16)
    var length: Int32 = 0
    var total: Int32 = 0
    let ok =
      EVP_DecryptInit_ex(cipher, EVP_aes_256_gcm(), nil, key, nonce) == 1
      && EVP_DecryptUpdate(cipher, nil, &length, aad, Int32(aad.count)) == 1
      && EVP_DecryptUpdate(cipher, &output, &length, body, Int32(body.count)) == 1
      && EVP_CIPHER_CTX_ctrl(cipher, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagLength), &tag) == 1
      && {
        total = length
        return output.withUnsafeMutableBufferPointer { buffer in
          EVP_DecryptFinal_ex(cipher, buffer.baseAddress! + Int(total), &length) == 1
        }
      }()
    guard ok else {
      ERR_clear_error()
      throw AuthError(
        .internalFailure,
        "a signing key does not decrypt: the key-encryption key differs from the one that "
          + "sealed it")
    }
    total += length
    return Array(output.prefix(Int(total)))
  }
}
