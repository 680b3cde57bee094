import CKPShim
import COpenSSL
public import Foundation
import Synchronization

/// A certificate issued by a ``TestCertificateAuthority``: PEM text and the files holding it.
public struct IssuedCertificate: Sendable {
  /// The SAN URI the certificate names, such as `spiffe://knowledgeplane/svc/auth`.
  public let identity: String

  /// The certificate in PEM.
  public let certificatePEM: String

  /// The unencrypted private key in PEM (PKCS #8).
  public let privateKeyPEM: String

  /// The file holding ``certificatePEM``; a chain of one, since the CA signs leaves
  /// directly.
  public let certificateChainPath: String

  /// The file holding ``privateKeyPEM``, mode 0600.
  public let privateKeyPath: String
}

/// An error from ``TestCertificateAuthority``, naming the OpenSSL step that failed.
public struct TestCertificateAuthorityError: Error, Sendable, CustomStringConvertible {
  /// What failed.
  public var message: String

  /// Creates an error.
  ///
  /// - Parameter message: What failed.
  public init(message: String) {
    self.message = message
  }

  public var description: String { "TestCertificateAuthorityError: \(message)" }
}

/// A certificate authority for tests, made in process with OpenSSL.
///
/// The CA has an EC P-256 key and a self-signed certificate. It issues leaf certificates
/// for mesh identities: a SAN URI (the identity), DNS `localhost` and IP `127.0.0.1`, usable
/// for both server and client authentication, with a validity window of the caller's
/// choosing (a window in the past makes an expired certificate).
///
/// Everything is written to a fresh temporary directory, ``directory``, which is removed
/// when the authority is deallocated: keep the authority alive while its files are in use.
///
/// ```swift
/// let ca = try TestCertificateAuthority.make(name: "mesh")
/// let auth = try ca.issue(identity: "spiffe://knowledgeplane/svc/auth")
/// let server = try TLSContext(configuration: .meshServer(
///   certificateChain: auth.certificateChainPath, privateKey: auth.privateKeyPath,
///   trustRoots: ca.certificatePath))
/// ```
public final class TestCertificateAuthority: @unchecked Sendable {
  /// The name given to ``make(name:)``, used in the CA's common name.
  public let name: String

  /// The temporary directory holding the CA's and issued certificates' files.
  public let directory: String

  /// The CA certificate in PEM; the trust root for peers of issued certificates.
  public let certificatePEM: String

  /// The file holding ``certificatePEM``: pass it as the trust roots.
  public let certificatePath: String

  // The CA's EVP_PKEY and X509, immutable after init; `issued` serialises issuing.
  private let key: OpaquePointer
  private let certificate: OpaquePointer
  private let issued = Mutex(0)

  private init(
    name: String,
    directory: String,
    key: OpaquePointer,
    certificate: OpaquePointer
  ) throws {
    self.name = name
    self.directory = directory
    self.key = key
    self.certificate = certificate
    self.certificatePEM = try Self.pem(certificate: certificate)
    self.certificatePath = (directory as NSString).appendingPathComponent("ca.pem")
    try Self.write(certificatePEM, to: certificatePath, mode: 0o644)
    TemporaryDirectories.removeAtExit(directory)
  }

  deinit {
    X509_free(certificate)
    EVP_PKEY_free(key)
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// Makes a new CA valid from an hour ago for ten days, in a new temporary directory.
  ///
  /// - Parameter name: A label for the CA's common name and directory.
  /// - Throws: ``TestCertificateAuthorityError`` when OpenSSL or the file system fails.
  public static func make(name: String) throws -> TestCertificateAuthority {
    let safeName = String(name.map { $0.isLetter || $0.isNumber ? $0 : "-" })
    let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent(
      "kp-test-ca-\(safeName)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(
      atPath: directory, withIntermediateDirectories: true,
      attributes: [.posixPermissions: 0o700])

    let key = try generateKey()
    let now = Date()
    let certificate: OpaquePointer
    do {
      certificate = try makeCertificate(
        commonName: "KnowledgePlane Test CA \(name)",
        publicKey: key,
        issuer: nil,
        signingKey: key,
        validFrom: now.addingTimeInterval(-3600),
        validUntil: now.addingTimeInterval(10 * 86400),
        extensions: [
          (NID_basic_constraints, "critical,CA:TRUE"),
          (NID_key_usage, "critical,keyCertSign,cRLSign"),
          (NID_subject_key_identifier, "hash"),
        ]
      )
    } catch {
      EVP_PKEY_free(key)
      throw error
    }
    return try TestCertificateAuthority(
      name: name, directory: directory, key: key, certificate: certificate)
  }

  /// Issues a leaf certificate and key for a mesh identity and writes them to files.
  ///
  /// - Parameters:
  ///   - identity: The SAN URI, such as `spiffe://knowledgeplane/svc/auth`; also the
  ///     common name's source. Must not contain a comma.
  ///   - validFrom: The start of validity; default an hour ago.
  ///   - validUntil: The end of validity; default a day from now. Both in the past make
  ///     an expired certificate.
  /// - Returns: The certificate, its key and their file paths.
  /// - Throws: ``TestCertificateAuthorityError`` when the identity is unusable or OpenSSL
  ///   or the file system fails.
  public func issue(
    identity: String,
    validFrom: Date? = nil,
    validUntil: Date? = nil
  ) throws -> IssuedCertificate {
    guard !identity.isEmpty, !identity.contains(","), !identity.contains("\n") else {
      throw TestCertificateAuthorityError(
        message: "identity '\(identity)' must be non-empty and contain no comma or newline")
    }
    let now = Date()
    let serial = issued.withLock { count in
      count += 1
      return count
    }

    let leafKey = try Self.generateKey()
    defer { EVP_PKEY_free(leafKey) }
    let leaf = try Self.makeCertificate(
      commonName: identity.split(separator: "/").last.map(String.init) ?? identity,
      publicKey: leafKey,
      issuer: certificate,
      signingKey: key,
      validFrom: validFrom ?? now.addingTimeInterval(-3600),
      validUntil: validUntil ?? now.addingTimeInterval(86400),
      extensions: [
        (NID_basic_constraints, "critical,CA:FALSE"),
        (NID_key_usage, "critical,digitalSignature"),
        (NID_ext_key_usage, "serverAuth,clientAuth"),
        (NID_subject_alt_name, "URI:\(identity),DNS:localhost,IP:127.0.0.1"),
        (NID_subject_key_identifier, "hash"),
        (NID_authority_key_identifier, "keyid:always"),
      ]
    )
    defer { X509_free(leaf) }

    let certificatePEM = try Self.pem(certificate: leaf)
    let privateKeyPEM = try Self.pem(privateKey: leafKey)
    let stem = String(identity.map { $0.isLetter || $0.isNumber ? $0 : "-" }.suffix(40))
    let base = (directory as NSString).appendingPathComponent("\(serial)-\(stem)")
    try Self.write(certificatePEM, to: base + ".pem", mode: 0o644)
    try Self.write(privateKeyPEM, to: base + ".key", mode: 0o600)
    return IssuedCertificate(
      identity: identity,
      certificatePEM: certificatePEM,
      privateKeyPEM: privateKeyPEM,
      certificateChainPath: base + ".pem",
      privateKeyPath: base + ".key"
    )
  }

  // MARK: - OpenSSL steps

  private static func generateKey() throws -> OpaquePointer {
    guard let key = kp_evp_pkey_generate_p256() else {
      throw failure("cannot generate an EC P-256 key")
    }
    return key
  }

  /// A signed X.509 v3 certificate; `issuer` `nil` makes it self-signed. The caller frees it.
  private static func makeCertificate(
    commonName: String,
    publicKey: OpaquePointer,
    issuer: OpaquePointer?,
    signingKey: OpaquePointer,
    validFrom: Date,
    validUntil: Date,
    extensions: [(Int32, String)]
  ) throws -> OpaquePointer {
    guard let certificate = X509_new() else { throw failure("cannot allocate a certificate") }
    do {
      guard X509_set_version(certificate, 2) == 1,
        ASN1_INTEGER_set(X509_get_serialNumber(certificate), Int.random(in: 1...Int.max)) == 1,
        ASN1_TIME_set(X509_getm_notBefore(certificate), time_t(validFrom.timeIntervalSince1970))
          != nil,
        ASN1_TIME_set(X509_getm_notAfter(certificate), time_t(validUntil.timeIntervalSince1970))
          != nil,
        X509_set_pubkey(certificate, publicKey) == 1
      else { throw failure("cannot set the certificate's version, serial, validity or key") }

      guard let subject = X509_NAME_new() else { throw failure("cannot allocate a name") }
      defer { X509_NAME_free(subject) }
      guard
        X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC, "KnowledgePlane Tests", -1, -1, 0)
          == 1,
        X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, commonName, -1, -1, 0) == 1,
        X509_set_subject_name(certificate, subject) == 1,
        X509_set_issuer_name(
          certificate, issuer.map { X509_get_subject_name($0) } ?? subject) == 1
      else { throw failure("cannot set the subject and issuer names for '\(commonName)'") }

      var context = X509V3_CTX()
      X509V3_set_ctx(&context, issuer ?? certificate, certificate, nil, nil, 0)
      for (nid, value) in extensions {
        guard let ext = X509V3_EXT_nconf_nid(nil, &context, nid, value) else {
          throw failure("cannot build the extension '\(value)'")
        }
        defer { X509_EXTENSION_free(ext) }
        guard X509_add_ext(certificate, ext, -1) == 1 else {
          throw failure("cannot add the extension '\(value)'")
        }
      }

      guard X509_sign(certificate, signingKey, EVP_sha256()) > 0 else {
        throw failure("cannot sign the certificate for '\(commonName)'")
      }
      return certificate
    } catch {
      X509_free(certificate)
      throw error
    }
  }

  private static func pem(certificate: OpaquePointer) throws -> String {
    try pem { bio in PEM_write_bio_X509(bio, certificate) == 1 }
  }

  private static func pem(privateKey: OpaquePointer) throws -> String {
    try pem { bio in PEM_write_bio_PrivateKey(bio, privateKey, nil, nil, 0, nil, nil) == 1 }
  }

  private static func pem(_ write: (OpaquePointer) -> Bool) throws -> String {
    guard let bio = BIO_new(BIO_s_mem()) else { throw failure("cannot allocate a memory BIO") }
    defer { BIO_free(bio) }
    guard write(bio) else { throw failure("cannot write PEM") }
    var data: UnsafeMutablePointer<CChar>?
    let length = kp_bio_get_mem_data(bio, &data)
    guard length > 0, let data else { throw failure("PEM output is empty") }
    return data.withMemoryRebound(to: UInt8.self, capacity: length) {
      String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
    }
  }

  private static func write(_ text: String, to path: String, mode: Int) throws {
    guard
      FileManager.default.createFile(
        atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
    else {
      throw TestCertificateAuthorityError(message: "cannot write \(path)")
    }
  }

  /// An error whose message ends with OpenSSL's error queue, which it empties.
  private static func failure(_ message: String) -> TestCertificateAuthorityError {
    var details: [String] = []
    while details.count < 16 {
      let code = ERR_get_error()
      if code == 0 { break }
      var buffer = [CChar](repeating: 0, count: 256)
      ERR_error_string_n(code, &buffer, buffer.count)
      details.append(
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    ERR_clear_error()
    let suffix = details.isEmpty ? "" : " (OpenSSL: \(details.joined(separator: "; ")))"
    return TestCertificateAuthorityError(message: message + suffix)
  }
}

/// Directories removed when the test process exits, for CAs kept in statics (never
/// deinitialised) whose private keys would otherwise stay in the temporary directory.
private enum TemporaryDirectories {
  private static let pending = Mutex<[String]>([])
  private static let registered: Void = {
    atexit {
      for directory in TemporaryDirectories.pending.withLock({ $0 }) {
        try? FileManager.default.removeItem(atPath: directory)
      }
    }
  }()

  static func removeAtExit(_ directory: String) {
    _ = registered
    pending.withLock { $0.append(directory) }
  }
}
