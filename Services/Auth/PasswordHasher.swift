import CArgon2
import Dispatch
import KPTokens

/// Hashes and verifies passwords with argon2id (libargon2), in PHC encoded form
/// (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
///
/// Hashing is deliberately slow, so both operations run on a dispatch queue rather than on a
/// Swift concurrency thread. Verification reads the parameters from the stored hash, so hashes
/// made with older parameters still verify; ``needsRehash(_:)`` says when to replace one.
/// libargon2 compares the computed and stored hashes in constant time.
struct PasswordHasher: Sendable {
  /// The cost parameters of new hashes.
  struct Parameters: Sendable, Equatable {
    /// Memory per hash, in KiB. Default: 19,456 (19 MiB), OWASP's baseline for argon2id.
    var memoryKiB: UInt32 = 19_456
    /// Passes over the memory. Default: 2.
    var iterations: UInt32 = 2
    /// Lanes computed in parallel. Default: 1.
    var parallelism: UInt32 = 1
  }

  /// The bytes of random salt per hash: 16.
  static let saltLength = 16
  /// The bytes of hash output: 32.
  static let hashLength = 32
  /// The longest password accepted, in UTF-8 bytes: 1,024.
  static let maximumPasswordLength = 1024

  let parameters: Parameters

  /// A hash of a random password made at start-up, verified against when a login names no
  /// user, so that a missing account costs the same time as a wrong password.
  let decoyHash: String

  /// Creates a hasher and its decoy hash.
  ///
  /// - Throws: ``AuthError`` when libargon2 refuses the parameters.
  init(parameters: Parameters) throws(AuthError) {
    self.parameters = parameters
    let decoyPassword: String
    do {
      decoyPassword = try SecureRandom.hex(16)
    } catch {
      throw AuthError(.internalFailure, "the random generator failed: \(error.message)")
    }
    decoyHash = try Self.hashNow(decoyPassword, parameters: parameters)
  }

  /// Hashes a password with a fresh salt.
  ///
  /// - Parameter password: The password.
  /// - Returns: The encoded hash.
  /// - Throws: ``AuthError`` for a password that is too long or when libargon2 fails.
  func hash(_ password: String) async throws(AuthError) -> String {
    let parameters = parameters
    let result = await Self.offload {
      Result { () throws(AuthError) -> String in
        try Self.hashNow(password, parameters: parameters)
      }
    }
    return try result.get()
  }

  /// Whether a password matches an encoded hash. A `nil` hash (no user, or a user without a
  /// password) is verified against the decoy and never matches, taking the same time.
  ///
  /// - Parameters:
  ///   - password: The password presented.
  ///   - encoded: The stored hash, or `nil`.
  /// - Returns: `true` when the password matches.
  func verify(_ password: String, against encoded: String?) async -> Bool {
    let target = encoded ?? decoyHash
    let matched = await Self.offload { () -> Bool in
      let bytes = Array(password.utf8.prefix(Self.maximumPasswordLength + 1))
      let status = bytes.withUnsafeBytes { buffer in
        argon2id_verify(target, buffer.baseAddress, buffer.count)
      }
      return status == ARGON2_OK.rawValue
    }
    return matched && encoded != nil && password.utf8.count <= Self.maximumPasswordLength
  }

  /// Whether an encoded hash was made with parameters other than the current ones.
  func needsRehash(_ encoded: String) -> Bool {
    let expected =
      "$argon2id$v=19$m=\(parameters.memoryKiB),t=\(parameters.iterations),"
      + "p=\(parameters.parallelism)$"
    return !encoded.hasPrefix(expected)
  }

  private static func hashNow(
    _ password: String, parameters: Parameters
  ) throws(AuthError) -> String {
    let bytes = Array(password.utf8)
    guard bytes.count <= maximumPasswordLength else {
      throw AuthError(
        .invalidArgument, "a password is at most \(maximumPasswordLength) bytes of UTF-8")
    }
    let salt: [UInt8]
    do {
      salt = try SecureRandom.bytes(saltLength)
    } catch {
      throw AuthError(.internalFailure, "the random generator failed: \(error.message)")
    }
    let length = argon2_encodedlen(
      parameters.iterations, parameters.memoryKiB, parameters.parallelism,
      UInt32(saltLength), UInt32(hashLength), Argon2_id)
    var encoded = [CChar](repeating: 0, count: length)
    let status = bytes.withUnsafeBytes { passwordBytes in
      salt.withUnsafeBytes { saltBytes in
        argon2id_hash_encoded(
          parameters.iterations, parameters.memoryKiB, parameters.parallelism,
          passwordBytes.baseAddress, passwordBytes.count, saltBytes.baseAddress, saltBytes.count,
          hashLength, &encoded, length)
      }
    }
    guard status == ARGON2_OK.rawValue else {
      let reason = String(cString: argon2_error_message(status))
      throw AuthError(.internalFailure, "argon2id hashing failed: \(reason)")
    }
    return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  private static func offload<Value: Sendable>(
    _ work: @escaping @Sendable () -> Value
  ) async -> Value {
    await withCheckedContinuation { continuation in
      DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
    }
  }
}
