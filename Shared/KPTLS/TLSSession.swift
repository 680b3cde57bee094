import CKPShim
import COpenSSL

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One TLS session over a connected, non-blocking socket.
///
/// The caller owns the file descriptor and the event loop: it calls ``handshake()`` until
/// it returns `.ok`, then ``read(into:)`` and ``write(_:)``, waiting for the socket to become
/// readable or writable whenever a call returns `.wantRead` or `.wantWrite`, and closes the
/// descriptor itself after ``shutdown()``. After `.failed` or `.closed` the session is
/// finished; further calls return the same failure.
///
/// A session is not thread-safe: one thread at a time owns it.
///
/// The peer's certificate is verified against the context's trust roots during the
/// handshake. When `expectedPeerIdentity` is given, the peer's certificate must also carry
/// it as a SAN URI, or the handshake fails with ``TLSError/Code/peerIdentityMismatch``.
/// With TLS 1.3 a client learns that the server refused its certificate only on its first
/// read after the handshake.
///
/// Writes use `write(2)`: call ``TLSRuntime/ignoreSIGPIPE()`` at start-up.
public final class TLSSession {
  private let context: TLSContext
  private let ssl: OpaquePointer
  private let verification: PeerVerification
  private var handshakeDone = false
  private var shutdownSent = false
  private var failure: TLSError?
  private var cachedIdentity: PeerIdentity??
  private var cachedALPN: String??

  /// Creates a session over a connected socket.
  ///
  /// - Parameters:
  ///   - context: The shared context; its role decides whether this side connects or
  ///     accepts.
  ///   - fileDescriptor: A connected, non-blocking socket. The session does not close it.
  ///   - expectedPeerIdentity: A SAN URI the peer's certificate must carry, such as
  ///     `spiffe://knowledgeplane/svc/auth`; `nil` accepts any identity the trust roots
  ///     vouch for. A server may set it only when its context requires peer certificates.
  ///   - serverName: Clients: the host name sent as SNI. When `expectedPeerIdentity` is
  ///     `nil` the server's certificate must also match it (a DNS name, or an IP address
  ///     for a literal). Servers ignore it.
  /// - Throws: A ``TLSError`` with code ``TLSError/Code/configuration``.
  public init(
    context: TLSContext,
    fileDescriptor: Int32,
    expectedPeerIdentity: String?,
    serverName: String?
  ) throws(TLSError) {
    let configuration = context.configuration
    if configuration.role == .server && !configuration.requirePeerCertificate
      && expectedPeerIdentity != nil
    {
      throw TLSError(
        code: .configuration,
        message: "a server session can check the peer identity only when its context requires "
          + "peer certificates")
    }
    ERR_clear_error()
    guard let ssl = SSL_new(context.pointer) else {
      throw .configuration("cannot create an OpenSSL session")
    }
    self.context = context
    self.ssl = ssl
    self.verification = PeerVerification(expectedIdentity: expectedPeerIdentity)

    guard SSL_set_fd(ssl, fileDescriptor) == 1 else {
      throw .configuration("cannot attach the TLS session to file descriptor \(fileDescriptor)")
    }
    let state = Unmanaged.passUnretained(verification).toOpaque()
    guard SSL_set_ex_data(ssl, sessionExDataIndex, state) == 1 else {
      throw .configuration("cannot attach verification state to the TLS session")
    }

    switch context.configuration.role {
    case .server:
      SSL_set_accept_state(ssl)
    case .client:
      SSL_set_connect_state(ssl)
      if let serverName {
        try configureServerName(serverName, verify: expectedPeerIdentity == nil)
      }
    }
  }

  deinit {
    SSL_free(ssl)
  }

  private func configureServerName(_ name: String, verify: Bool) throws(TLSError) {
    if Self.isIPAddress(name) {
      // SNI must not carry an address; the certificate's IP SAN is checked instead.
      if verify && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) != 1 {
        throw .configuration("cannot verify the server against the address \(name)")
      }
      return
    }
    guard kp_ssl_set_tlsext_host_name(ssl, name) == 1 else {
      throw .configuration("cannot send the server name '\(name)'")
    }
    if verify && SSL_set1_host(ssl, name) != 1 {
      throw .configuration("cannot verify the server against the name '\(name)'")
    }
  }

  private static func isIPAddress(_ name: String) -> Bool {
    var storage = in6_addr()
    return inet_pton(AF_INET, name, &storage) == 1 || inet_pton(AF_INET6, name, &storage) == 1
  }

  // MARK: - State

  /// Whether the handshake has completed successfully.
  public var isHandshakeComplete: Bool { handshakeDone }

  /// The number of decrypted bytes buffered in the session, readable without touching the
  /// socket. Drain them before waiting for the socket to become readable again.
  public var pendingReadableBytes: Int {
    Int(SSL_pending(ssl))
  }

  /// Whether OpenSSL holds received bytes not yet returned by `read`, decrypted or not. When
  /// false after a short read, everything the socket delivered so far has been read.
  public var hasBufferedInput: Bool {
    SSL_has_pending(ssl) == 1
  }

  /// The peer's identity from its verified certificate; `nil` before the handshake has
  /// completed or when the peer presented no certificate (servers that do not require one).
  public var peerIdentity: PeerIdentity? {
    guard handshakeDone else { return nil }
    if let cachedIdentity { return cachedIdentity }
    let identity = SSL_get0_peer_certificate(ssl).map { PeerIdentity(certificate: $0) }
    cachedIdentity = .some(identity)
    return identity
  }

  /// The application protocol agreed with ALPN, or `nil` when none was.
  public var negotiatedALPN: String? {
    if let cachedALPN { return cachedALPN }
    var data: UnsafePointer<UInt8>?
    var length: UInt32 = 0
    SSL_get0_alpn_selected(ssl, &data, &length)
    let name = data.map {
      String(decoding: UnsafeBufferPointer(start: $0, count: Int(length)), as: UTF8.self)
    }
    if handshakeDone { cachedALPN = .some(name) }
    return name
  }

  /// The negotiated protocol version, such as `"TLSv1.3"`.
  public var protocolVersion: String {
    String(cString: SSL_get_version(ssl))
  }

  // MARK: - Operations

  /// Advances the handshake.
  ///
  /// - Returns: `.ok` once the handshake is complete (and on every later call),
  ///   `.wantRead`/`.wantWrite` to be called again when the socket is ready, `.closed` or
  ///   `.failed` when the peer went away or was refused.
  public func handshake() -> TLSResult<Void> {
    if let failure { return .failed(failure) }
    if handshakeDone { return .ok(()) }
    ERR_clear_error()
    let status = SSL_do_handshake(ssl)
    guard status == 1 else { return outcome(of: status, during: .handshake) }

    if context.requiresALPN && negotiatedALPN == nil {
      let offered = context.configuration.alpnProtocols.joined(separator: ", ")
      return .failed(
        fail(
          TLSError(
            code: .applicationProtocol,
            message: "the peer negotiated no application protocol; this side requires one of "
              + offered)))
    }
    handshakeDone = true
    return .ok(())
  }

  /// Reads decrypted bytes, completing the handshake first if needed.
  ///
  /// - Parameter buffer: Where to put the bytes.
  /// - Returns: `.ok(n)` with `n > 0` bytes read (`.ok(0)` only for an empty buffer),
  ///   `.wantRead`/`.wantWrite`, `.closed` when the peer closed the session cleanly, or
  ///   `.failed`.
  public func read(into buffer: UnsafeMutableRawBufferPointer) -> TLSResult<Int> {
    if let failure { return .failed(failure) }
    guard let base = buffer.baseAddress, !buffer.isEmpty else { return .ok(0) }
    Self.clearErrorQueue()
    var count = 0
    let status = SSL_read_ex(ssl, base, buffer.count, &count)
    guard status == 1 else { return outcome(of: status, during: .read) }
    return .ok(count)
  }

  /// Writes bytes, completing the handshake first if needed. Partial writes happen: write
  /// the rest in a later call. After `.wantRead`/`.wantWrite`, call again with the same
  /// bytes (they may have moved in memory).
  ///
  /// - Parameter bytes: The bytes to encrypt and send.
  /// - Returns: `.ok(n)` with the number of bytes taken, `.wantRead`/`.wantWrite`,
  ///   `.closed`, or `.failed`.
  public func write(_ bytes: UnsafeRawBufferPointer) -> TLSResult<Int> {
    if let failure { return .failed(failure) }
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return .ok(0) }
    Self.clearErrorQueue()
    var count = 0
    let status = SSL_write_ex(ssl, base, bytes.count, &count)
    guard status == 1 else { return outcome(of: status, during: .write) }
    return .ok(count)
  }

  /// Sends a TLS close_notify if the session is healthy; best-effort, never blocks, and
  /// does nothing after a failure or a second time. The caller still closes the socket.
  public func shutdown() {
    guard !shutdownSent, failure == nil, handshakeDone else { return }
    shutdownSent = true
    ERR_clear_error()
    _ = SSL_shutdown(ssl)
    ERR_clear_error()
  }

  // MARK: - Errors

  /// Empties this thread's OpenSSL error queue, as `SSL_get_error` needs before each I/O call.
  /// It is nearly always empty already; `ERR_clear_error` on OpenSSL 3 walks and frees all of
  /// its slots even then, which costs more than the check.
  private static func clearErrorQueue() {
    if ERR_peek_error() != 0 { ERR_clear_error() }
  }

  private func fail(_ error: TLSError) -> TLSError {
    failure = error
    return error
  }

  private func outcome<T>(of status: Int32, during phase: Phase) -> TLSResult<T> {
    let savedErrno = errno
    switch SSL_get_error(ssl, status) {
    case SSL_ERROR_WANT_READ:
      return .wantRead
    case SSL_ERROR_WANT_WRITE:
      return .wantWrite
    case SSL_ERROR_ZERO_RETURN:
      return .closed
    case SSL_ERROR_SYSCALL:
      let queue = OpenSSLErrorQueue.drain()
      let reason =
        savedErrno == 0
        ? "the peer closed the connection \(phase.closedWhen)"
        : "socket error \(phase.during): \(String(cString: strerror(savedErrno)))"
      return .failed(fail(TLSError(code: .io, message: queue.annotate(reason))))
    default:
      let queue = OpenSSLErrorQueue.drain()
      let (code, reason) = describe(queue, during: phase)
      return .failed(fail(TLSError(code: code, message: queue.annotate(reason))))
    }
  }

  /// A code and plain-words reason for a libssl failure.
  private func describe(
    _ queue: OpenSSLErrorQueue,
    during phase: Phase
  ) -> (TLSError.Code, String) {
    if let presented = verification.mismatch, let expected = verification.expectedIdentity {
      let names = presented.uris.isEmpty ? "no URI" : presented.uris.joined(separator: ", ")
      return (
        .peerIdentityMismatch,
        "peer identity mismatch: expected \(expected), the peer's certificate names \(names)"
      )
    }

    let verifyResult = Int32(truncatingIfNeeded: SSL_get_verify_result(ssl))
    if queue.contains(sslReason: SSL_R_CERTIFICATE_VERIFY_FAILED) && verifyResult != X509_V_OK {
      return (.certificateRejected, Self.describeVerifyFailure(verifyResult))
    }

    for reason in queue.sslReasons {
      if let described = describe(sslReason: reason, during: phase) { return described }
    }
    switch phase {
    case .handshake: return (.handshakeFailed, "the TLS handshake failed")
    case .read, .write: return (.protocolError, "TLS protocol error \(phase.during)")
    }
  }

  private func describe(
    sslReason reason: Int32,
    during phase: Phase
  ) -> (TLSError.Code, String)? {
    let minimum = context.configuration.minimumVersion
    switch reason {
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
      return (.certificateRejected, "peer did not present a certificate; one is required")
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      return (
        .certificateRejected,
        "the peer requires a client certificate and this side presented none"
      )
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
      return (.certificateRejected, "the peer rejected this side's certificate as expired")
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
      return (
        .certificateRejected,
        "the peer does not trust the certificate authority that issued this side's certificate"
      )
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE, SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN,
      SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE, SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
      return (.certificateRejected, "the peer rejected this side's certificate")
    case SSL_R_UNSUPPORTED_PROTOCOL, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION,
      SSL_R_NO_PROTOCOLS_AVAILABLE:
      return (
        .protocolVersion,
        "the peer does not support \(minimum) or later, the lowest version this side accepts"
      )
    case SSL_R_WRONG_VERSION_NUMBER, SSL_R_HTTP_REQUEST, SSL_R_HTTPS_PROXY_REQUEST,
      SSL_R_PACKET_LENGTH_TOO_LONG, SSL_R_UNKNOWN_PROTOCOL:
      return phase == .handshake
        ? (
          .handshakeFailed, "the peer did not start a TLS handshake (plain TCP or another protocol)"
        )
        : (.protocolError, "the peer sent data that is not a TLS record")
    case SSL_R_NO_APPLICATION_PROTOCOL, SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL:
      let offered = context.configuration.alpnProtocols.joined(separator: ", ")
      return (
        .applicationProtocol,
        "no application protocol (ALPN) in common with the peer; this side offers \(offered)"
      )
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
      return (.io, "the peer closed the connection \(phase.closedWhen)")
    case SSL_R_NO_SHARED_CIPHER:
      return (.handshakeFailed, "the peer and this side share no cipher suite")
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
      return (
        .handshakeFailed,
        "the peer aborted the handshake; it may not accept this side's identity or parameters"
      )
    default:
      return nil
    }
  }

  private static func describeVerifyFailure(_ result: Int32) -> String {
    switch result {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "peer certificate has expired"
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "peer certificate is not yet valid"
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
      X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
      X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return "peer certificate was not issued by a trusted certificate authority"
    case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
      return "peer certificate does not match the server name that was dialled"
    case X509_V_ERR_INVALID_PURPOSE:
      return "peer certificate is not valid for this use (extended key usage)"
    default:
      let text = String(cString: X509_verify_cert_error_string(Int(result)))
      return "peer certificate was rejected: \(text)"
    }
  }
}

/// The step a session was in when an operation failed.
private enum Phase {
  case handshake
  case read
  case write

  var during: String {
    switch self {
    case .handshake: "during the handshake"
    case .read: "while reading"
    case .write: "while writing"
    }
  }

  var closedWhen: String {
    switch self {
    case .handshake: "during the handshake"
    case .read, .write: "without a TLS close_notify"
    }
  }
}

/// Per-session state the certificate-verification callback reads and writes.
final class PeerVerification {
  let expectedIdentity: String?
  var mismatch: PeerIdentity?

  init(expectedIdentity: String?) {
    self.expectedIdentity = expectedIdentity
  }
}

/// The OpenSSL per-session slot holding a session's ``PeerVerification``.
let sessionExDataIndex: Int32 = kp_ssl_get_ex_new_index()

/// OpenSSL's verification callback: keeps OpenSSL's verdict and, for the peer's own
/// certificate, checks the expected identity.
func verifyPeer(_ preverified: Int32, _ store: OpaquePointer?) -> Int32 {
  guard preverified == 1 else { return 0 }
  guard let store, X509_STORE_CTX_get_error_depth(store) == 0 else { return 1 }
  guard
    let rawSSL = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
    let rawState = SSL_get_ex_data(OpaquePointer(rawSSL), sessionExDataIndex)
  else { return 1 }
  let state = Unmanaged<PeerVerification>.fromOpaque(rawState).takeUnretainedValue()
  guard let expected = state.expectedIdentity else { return 1 }

  guard let certificate = X509_STORE_CTX_get_current_cert(store) else {
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION)
    return 0
  }
  let identity = PeerIdentity(certificate: certificate)
  if identity.uris.contains(expected) { return 1 }
  state.mismatch = identity
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION)
  return 0
}
