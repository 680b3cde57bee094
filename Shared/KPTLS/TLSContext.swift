import CKPShim
import COpenSSL

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The shared, immutable TLS state of one side of many connections: certificate, key,
/// trusted roots and policy (an OpenSSL `SSL_CTX`).
///
/// Build one per configuration at start-up and share it: it is not changed after `init`,
/// and OpenSSL allows sessions to be created from it on any thread at once.
public final class TLSContext: @unchecked Sendable {
  /// The configuration the context was built from.
  public let configuration: TLSConfiguration

  /// The OpenSSL context; owned by this object and freed with it.
  let pointer: OpaquePointer

  /// The wire-format ALPN list handed to OpenSSL's server-side selection callback.
  private let alpnList: ALPNList?

  /// Creates a context from the PEM files named in the configuration.
  ///
  /// - Parameter configuration: The role, files and policy.
  /// - Throws: A ``TLSError`` with code ``TLSError/Code/configuration`` naming what could
  ///   not be loaded or applied.
  public convenience init(configuration: TLSConfiguration) throws(TLSError) {
    try self.init(
      configuration: configuration,
      certificateChainPEM: nil,
      privateKeyPEM: nil,
      trustRootsPEM: nil
    )
  }

  /// Creates a context from PEM text held in memory, for certificates made on the fly.
  ///
  /// Each PEM argument that is not `nil` is used instead of the matching path in the
  /// configuration; for a `nil` argument the path (if any) is loaded.
  ///
  /// - Parameters:
  ///   - configuration: The role and policy; its paths are fallbacks.
  ///   - certificateChainPEM: This side's certificate, then any intermediates.
  ///   - privateKeyPEM: The certificate's private key (unencrypted).
  ///   - trustRootsPEM: CA certificates used to verify the peer.
  /// - Throws: A ``TLSError`` with code ``TLSError/Code/configuration``.
  public init(
    configuration: TLSConfiguration,
    certificateChainPEM: String?,
    privateKeyPEM: String?,
    trustRootsPEM: String?
  ) throws(TLSError) {
    ERR_clear_error()
    let method = configuration.role == .server ? TLS_server_method() : TLS_client_method()
    guard let context = SSL_CTX_new(method) else {
      throw .configuration("cannot create an OpenSSL context")
    }
    var alpnList: ALPNList?
    do {
      try Self.applyPolicy(configuration, to: context)
      try Self.loadCredentials(
        configuration,
        certificateChain: PEMSource(
          pem: certificateChainPEM, path: configuration.certificateChainPath),
        privateKey: PEMSource(pem: privateKeyPEM, path: configuration.privateKeyPath),
        into: context
      )
      try Self.loadTrustRoots(
        configuration,
        PEMSource(pem: trustRootsPEM, path: configuration.trustRootsPath),
        into: context
      )
      alpnList = try Self.applyALPN(configuration, to: context)
    } catch {
      SSL_CTX_free(context)
      throw error
    }
    self.configuration = configuration
    self.pointer = context
    self.alpnList = alpnList
    if let alpnList, configuration.role == .server {
      let argument = Unmanaged.passUnretained(alpnList).toOpaque()
      SSL_CTX_set_alpn_select_cb(context, selectALPN, argument)
    }
  }

  deinit {
    SSL_CTX_free(pointer)
  }

  /// Whether sessions must refuse a peer that negotiated no application protocol.
  var requiresALPN: Bool {
    configuration.requireALPN && !configuration.alpnProtocols.isEmpty
  }

  // MARK: - Building the OpenSSL context

  private static func applyPolicy(
    _ configuration: TLSConfiguration,
    to context: OpaquePointer
  ) throws(TLSError) {
    kp_ssl_ctx_set_default_options(context)
    _ = kp_ssl_ctx_set_mode(context, kp_ssl_mode_nonblocking())
    // One read(2) per burst instead of one for each record's header and another for its body.
    // Every reader drains `TLSSession.hasBufferedInput` before waiting on the socket again.
    kp_ssl_ctx_set_read_ahead(context, 1)
    _ = kp_ssl_ctx_set_session_cache_mode(context, 0)
    _ = SSL_CTX_set_num_tickets(context, 0)
    SSL_CTX_set_verify_depth(context, 8)

    guard kp_ssl_ctx_set_min_proto_version(context, configuration.minimumVersion.openSSLValue) == 1
    else {
      throw .configuration("cannot set the minimum TLS version \(configuration.minimumVersion)")
    }
    if let maximum = configuration.maximumVersion {
      guard maximum.openSSLValue >= configuration.minimumVersion.openSSLValue,
        kp_ssl_ctx_set_max_proto_version(context, maximum.openSSLValue) == 1
      else {
        throw .configuration(
          "cannot set the maximum TLS version \(maximum) with minimum "
            + "\(configuration.minimumVersion)")
      }
    }

    let mode: Int32
    switch configuration.role {
    case .client:
      mode = SSL_VERIFY_PEER
    case .server:
      mode =
        configuration.requirePeerCertificate
        ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_NONE
    }
    SSL_CTX_set_verify(context, mode, verifyPeer)
  }

  private static func loadCredentials(
    _ configuration: TLSConfiguration,
    certificateChain: PEMSource?,
    privateKey: PEMSource?,
    into context: OpaquePointer
  ) throws(TLSError) {
    switch (certificateChain, privateKey) {
    case (nil, nil):
      if configuration.role == .server {
        throw .configuration("a TLS server needs a certificate chain and a private key")
      }
      return
    case (nil, _):
      throw .configuration("a private key was given without a certificate chain")
    case (_, nil):
      throw .configuration("a certificate chain was given without a private key")
    case (let chain?, let key?):
      try loadCertificateChain(chain, into: context)
      try loadPrivateKey(key, into: context)
      guard SSL_CTX_check_private_key(context) == 1 else {
        throw .configuration(
          "the private key \(key.label) does not match the certificate \(chain.label)")
      }
    }
  }

  private static func loadCertificateChain(
    _ source: PEMSource,
    into context: OpaquePointer
  ) throws(TLSError) {
    switch source {
    case .file(let path):
      try checkReadable(path, what: "certificate chain")
      guard SSL_CTX_use_certificate_chain_file(context, path) == 1 else {
        throw .configuration("cannot load the certificate chain from \(path)")
      }
    case .memory(let pem):
      let certificates = readCertificates(pem)
      defer { freeCertificates(certificates) }
      guard let leaf = certificates.first, SSL_CTX_use_certificate(context, leaf) == 1 else {
        throw .configuration("the certificate chain PEM holds no usable certificate")
      }
      for intermediate in certificates.dropFirst() {
        guard kp_ssl_ctx_add1_chain_cert(context, intermediate) == 1 else {
          throw .configuration("cannot add an intermediate certificate to the chain")
        }
      }
    }
  }

  private static func loadPrivateKey(
    _ source: PEMSource,
    into context: OpaquePointer
  ) throws(TLSError) {
    switch source {
    case .file(let path):
      try checkReadable(path, what: "private key")
      guard SSL_CTX_use_PrivateKey_file(context, path, SSL_FILETYPE_PEM) == 1 else {
        throw keyFailure("cannot load the private key from \(path)")
      }
    case .memory(let pem):
      let key = withMemoryBIO(pem) { bio in PEM_read_bio_PrivateKey(bio, nil, nil, nil) }
      guard let key else {
        throw .configuration("the private key PEM holds no usable (unencrypted) key")
      }
      defer { EVP_PKEY_free(key) }
      guard SSL_CTX_use_PrivateKey(context, key) == 1 else {
        throw keyFailure("cannot use the private key from PEM")
      }
    }
  }

  /// A configuration error for a key OpenSSL refused, saying so when it does not match the
  /// certificate.
  private static func keyFailure(_ message: String) -> TLSError {
    let queue = OpenSSLErrorQueue.drain()
    let mismatch = queue.contains(library: ERR_LIB_X509, reason: X509_R_KEY_VALUES_MISMATCH)
    let reason = mismatch ? "\(message): the key does not match the certificate" : message
    return TLSError(code: .configuration, message: queue.annotate(reason))
  }

  private static func loadTrustRoots(
    _ configuration: TLSConfiguration,
    _ source: PEMSource?,
    into context: OpaquePointer
  ) throws(TLSError) {
    switch source {
    case nil:
      if configuration.role == .server && configuration.requirePeerCertificate {
        throw .configuration(
          "a TLS server that requires client certificates needs trust roots to verify them")
      }
      if configuration.role == .client && SSL_CTX_set_default_verify_paths(context) != 1 {
        throw .configuration("cannot load the system's default trust roots")
      }
    case .file(let path)?:
      try checkReadable(path, what: "trust roots")
      guard SSL_CTX_load_verify_file(context, path) == 1 else {
        throw .configuration("cannot load trust roots from \(path)")
      }
    case .memory(let pem)?:
      let certificates = readCertificates(pem)
      defer { freeCertificates(certificates) }
      guard !certificates.isEmpty else {
        throw .configuration("the trust roots PEM holds no certificate")
      }
      let store = SSL_CTX_get_cert_store(context)
      for certificate in certificates where X509_STORE_add_cert(store, certificate) != 1 {
        throw .configuration("cannot add a trust root to the certificate store")
      }
    }
  }

  private static func applyALPN(
    _ configuration: TLSConfiguration,
    to context: OpaquePointer
  ) throws(TLSError) -> ALPNList? {
    guard !configuration.alpnProtocols.isEmpty else { return nil }
    var wire: [UInt8] = []
    for name in configuration.alpnProtocols {
      let bytes = Array(name.utf8)
      guard (1...255).contains(bytes.count) else {
        throw TLSError(
          code: .configuration,
          message: "ALPN protocol name '\(name)' must be 1 to 255 bytes long")
      }
      wire.append(UInt8(bytes.count))
      wire.append(contentsOf: bytes)
    }
    let list = ALPNList(wire: wire, required: configuration.requireALPN)
    if configuration.role == .client {
      let status = SSL_CTX_set_alpn_protos(
        context, list.bytes.baseAddress, UInt32(list.bytes.count))
      guard status == 0 else {
        throw .configuration("cannot set the ALPN protocols \(configuration.alpnProtocols)")
      }
    }
    return list
  }

  private static func checkReadable(_ path: String, what: String) throws(TLSError) {
    guard access(path, R_OK) == 0 else {
      let reason = String(cString: strerror(errno))
      throw TLSError(
        code: .configuration, message: "cannot read the \(what) file \(path): \(reason)")
    }
  }

  /// Every certificate in a PEM text, in order; the caller frees them.
  private static func readCertificates(_ pem: String) -> [OpaquePointer] {
    let certificates = withMemoryBIO(pem) { bio -> [OpaquePointer] in
      var found: [OpaquePointer] = []
      while found.count < 64, let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
        found.append(certificate)
      }
      return found
    }
    // Reading stops at the end of the text with a "no start line" error: not a failure.
    ERR_clear_error()
    return certificates
  }

  private static func freeCertificates(_ certificates: [OpaquePointer]) {
    for certificate in certificates {
      X509_free(certificate)
    }
  }

  private static func withMemoryBIO<R>(_ text: String, _ body: (OpaquePointer?) -> R) -> R {
    var text = text
    return text.withUTF8 { bytes in
      let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count))
      defer { BIO_free(bio) }
      return body(bio)
    }
  }
}

/// Where one piece of PEM comes from.
private enum PEMSource {
  case file(String)
  case memory(String)

  init?(pem: String?, path: String?) {
    if let pem {
      self = .memory(pem)
    } else if let path {
      self = .file(path)
    } else {
      return nil
    }
  }

  var label: String {
    switch self {
    case .file(let path): path
    case .memory: "(PEM in memory)"
    }
  }
}

/// A wire-format ALPN list (length-prefixed names) at a stable address, for OpenSSL.
final class ALPNList {
  let bytes: UnsafeMutableBufferPointer<UInt8>
  let required: Bool

  init(wire: [UInt8], required: Bool) {
    bytes = .allocate(capacity: wire.count)
    _ = bytes.initialize(from: wire)
    self.required = required
  }

  deinit {
    bytes.deallocate()
  }
}

/// OpenSSL's server-side ALPN callback: picks the first of our protocols the client offers.
private func selectALPN(
  _ ssl: OpaquePointer?,
  _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
  _ outLength: UnsafeMutablePointer<UInt8>?,
  _ offered: UnsafePointer<UInt8>?,
  _ offeredLength: UInt32,
  _ argument: UnsafeMutableRawPointer?
) -> Int32 {
  guard let out, let outLength, let offered, let argument else {
    return SSL_TLSEXT_ERR_NOACK
  }
  let list = Unmanaged<ALPNList>.fromOpaque(argument).takeUnretainedValue()
  var selected: UnsafeMutablePointer<UInt8>?
  var selectedLength: UInt8 = 0
  let status = SSL_select_next_proto(
    &selected, &selectedLength, list.bytes.baseAddress, UInt32(list.bytes.count),
    offered, offeredLength)
  if status == OPENSSL_NPN_NEGOTIATED, let selected {
    out.pointee = UnsafePointer(selected)
    outLength.pointee = selectedLength
    return SSL_TLSEXT_ERR_OK
  }
  return list.required ? SSL_TLSEXT_ERR_ALERT_FATAL : SSL_TLSEXT_ERR_NOACK
}
