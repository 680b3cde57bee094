import Foundation
import KPServiceKit
import KPTokens

/// kp-auth's own settings, with their defaults.
enum AuthSettings {
  static let all: [Setting] = [
    Setting(
      "tenants-address",
      help: "Where the tenant registry service listens (host:port, several separated by commas).",
      valueName: "host:port", default: "127.0.0.1:7102"),
    Setting(
      "tenant-source",
      help: "Where tenant state comes from: 'registry-service' asks kp-tenants over RPC; "
        + "'registry-tables' reads the registry's tables on the first database cluster.",
      valueName: "source", default: "registry-service"),
    Setting(
      "password-memory-kib", help: "argon2id memory per password hash, in KiB.",
      valueName: "KiB", default: "19456"),
    Setting(
      "password-iterations", help: "argon2id passes per password hash.", valueName: "count",
      default: "2"),
    Setting(
      "password-parallelism", help: "argon2id lanes per password hash.", valueName: "count",
      default: "1"),
    Setting(
      "password-min-length", help: "The shortest password accepted for a user.",
      valueName: "characters", default: "12"),
    Setting(
      "access-token-minutes", help: "How long access tokens live (at most 15).",
      valueName: "minutes", default: "15"),
    Setting(
      "refresh-token-days", help: "How long an unused refresh token stays valid.",
      valueName: "days", default: "30"),
    Setting(
      "signing-key-rotation-hours", help: "How long a signing key signs before the next one.",
      valueName: "hours", default: "24"),
    Setting(
      "key-encryption-key-file",
      help: "File holding 64 hex digits that encrypt the signing keys stored in the database; "
        + "made on first start when missing.",
      valueName: "path", default: ".kp/secrets/auth-key-encryption.key"),
    Setting(
      "platform-admin-email",
      help: "The platform administrator's email; empty disables the account.",
      valueName: "email", default: ""),
    Setting(
      "platform-admin-password-hash",
      help: "The platform administrator's argon2id hash, as 'kp-auth hash-password' prints it.",
      valueName: "hash", default: ""),
  ]

  /// The argon2id parameters the settings give.
  static func passwordParameters(
    _ configuration: ServiceConfiguration
  ) throws(ConfigurationError) -> PasswordHasher.Parameters {
    PasswordHasher.Parameters(
      memoryKiB: UInt32(try configuration.integer("password-memory-kib", in: 8...4_194_304)),
      iterations: UInt32(try configuration.integer("password-iterations", in: 1...100)),
      parallelism: UInt32(try configuration.integer("password-parallelism", in: 1...64)))
  }

  /// The service options the settings give.
  static func options(
    _ configuration: ServiceConfiguration
  ) throws(ConfigurationError) -> AuthService.Options {
    var options = AuthService.Options()
    options.accessTokenLifetime =
      TimeInterval(try configuration.integer("access-token-minutes", in: 1...15)) * 60
    options.refreshTokenLifetime =
      TimeInterval(try configuration.integer("refresh-token-days", in: 1...365)) * 86_400
    options.minimumPasswordLength = try configuration.integer("password-min-length", in: 1...1024)
    let email = try configuration.string("platform-admin-email")
    let hash = try configuration.string("platform-admin-password-hash")
    if !email.isEmpty {
      guard hash.hasPrefix("$argon2id$") else {
        throw ConfigurationError(
          code: .invalidValue,
          message: "setting 'platform-admin-password-hash' must be an argon2id hash; make one "
            + "with 'kp-auth hash-password'")
      }
      options.platformAdmin = (EmailAddress.key(email), hash)
    }
    return options
  }

  /// Reads the key-encryption key, making the file (mode 0600) when it is missing.
  static func keyEncryptionKey(
    _ configuration: ServiceConfiguration
  ) throws(ConfigurationError) -> [UInt8] {
    let path = try configuration.string("key-encryption-key-file")
    let manager = FileManager.default
    if !manager.fileExists(atPath: path) {
      do {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
          try manager.createDirectory(
            atPath: directory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        }
        let text = try SecureRandom.hex(KeySealer.keyLength) + "\n"
        guard
          manager.createFile(
            atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown) }
      } catch {
        throw ConfigurationError(
          code: .unreadableFile, message: "cannot create the key-encryption key file \(path)")
      }
    }
    guard let text = try? String(contentsOfFile: path, encoding: .utf8),
      let key = Hex.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)),
      key.count == KeySealer.keyLength
    else {
      throw ConfigurationError(
        code: .invalidValue,
        message: "\(path) must hold \(2 * KeySealer.keyLength) lowercase hex digits")
    }
    return key
  }
}
