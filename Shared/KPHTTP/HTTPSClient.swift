import CSystem
import Foundation
import KPTLS

#if canImport(Glibc)
  import Glibc
#endif

/// A small blocking HTTPS/1.1 client for command-line tools and tests: one keep-alive
/// connection to one server, responses parsed by http-parser.
///
/// Every connect, write and read waits at most ``timeout``, so a silent server cannot hang
/// the caller. The server's certificate is verified against the trust roots given (the
/// development CA, or the system roots) and against the host name. Requests are sent one at
/// a time; calls from several threads take turns.
///
/// ```swift
/// let client = try HTTPSClient(host: "127.0.0.1", port: 7100, trustRoots: ".kp/certs/ca.pem")
/// let response = try client.send(.get, "/healthz")
/// ```
public final class HTTPSClient: @unchecked Sendable {
  /// The server's host name or address.
  public let host: String
  /// The server's port.
  public let port: Int
  /// How long one connect, write or read may wait.
  public let timeout: Duration
  /// The largest response body accepted.
  public let maximumBodySize: Int

  private let context: TLSContext
  private let lock = NSLock()
  private var connection: (descriptor: Int32, session: TLSSession)?
  private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

  /// Makes a client; nothing is sent until the first request.
  ///
  /// - Parameters:
  ///   - host: The server's host name or address, also checked against its certificate.
  ///   - port: The server's port.
  ///   - trustRoots: A PEM file of CA certificates to trust, or `nil` for the system roots.
  ///   - timeout: How long one connect, write or read may wait. Default 30 seconds.
  ///   - maximumBodySize: The largest response body accepted. Default 64 MiB.
  /// - Throws: ``HTTPClientError`` with code ``HTTPClientError/Code/tls`` when the trust roots
  ///   cannot be loaded.
  public init(
    host: String, port: Int, trustRoots: String?, timeout: Duration = .seconds(30),
    maximumBodySize: Int = 64 << 20
  ) throws(HTTPClientError) {
    self.host = host
    self.port = port
    self.timeout = timeout
    self.maximumBodySize = maximumBodySize
    do {
      context = try TLSContext(
        configuration: .externalClient(trustRoots: trustRoots))
    } catch {
      throw HTTPClientError(.tls, "cannot load the trust roots: \(error.message)")
    }
  }

  deinit {
    if let connection { Glibc.close(connection.descriptor) }
  }

  /// Sends one request and waits for its response.
  ///
  /// A request on a kept-alive connection that the server had closed meanwhile is sent once
  /// more on a new connection, when nothing of a response had arrived.
  ///
  /// - Parameters:
  ///   - method: The request method.
  ///   - target: The path and query, such as `/v1/search?q=vacuum`.
  ///   - headers: Extra header fields; `Host`, `Content-Length` and `User-Agent` are added.
  ///   - body: The request body.
  /// - Returns: The response, whatever its status.
  /// - Throws: ``HTTPClientError`` when no complete response arrived.
  public func send(
    _ method: HTTPMethod, _ target: String, headers: [(String, String)] = [],
    body: [UInt8] = []
  ) throws(HTTPClientError) -> HTTPClientResponse {
    let request = try encode(method, target, headers: headers, body: body)

    lock.lock()
    defer { lock.unlock() }
    let reused = connection != nil
    do {
      return try exchange(request, isHEAD: method == .head)
    } catch let error where reused && (error.code == .closed) {
      dropConnection()
      return try exchange(request, isHEAD: method == .head)
    }
  }

  /// Closes the kept-alive connection, if any.
  public func close() {
    lock.lock()
    defer { lock.unlock() }
    dropConnection()
  }

  // MARK: - One exchange

  private func exchange(_ request: [UInt8], isHEAD: Bool) throws(HTTPClientError)
    -> HTTPClientResponse
  {
    let session = try currentSession()

    do {
      try write(request, to: session)
      let response = try readResponse(from: session, isHEAD: isHEAD)
      if !response.keepAlive { dropConnection() }
      return response
    } catch {
      dropConnection()
      throw error
    }
  }

  private func write(_ bytes: [UInt8], to session: TLSSession) throws(HTTPClientError) {
    var offset = 0
    while offset < bytes.count {
      let result = bytes[offset...].withUnsafeBytes { session.write($0) }
      switch result {
      case .ok(let count):
        offset += count
      case .wantRead, .wantWrite:
        throw HTTPClientError(.timeout, "\(endpoint) did not take the request within \(seconds)")
      case .closed:
        throw HTTPClientError(.closed, "\(endpoint) closed the connection")
      case .failed:
        throw HTTPClientError(.closed, "\(endpoint) closed the connection")
      }
    }
  }

  private func readResponse(from session: TLSSession, isHEAD: Bool) throws(HTTPClientError)
    -> HTTPClientResponse
  {
    let parser = HTTPResponseParser(maximumHeaderSize: 64 * 1024, maximumBodySize: maximumBodySize)
    parser.isResponseToHEAD = isHEAD
    var received = false
    while true {
      let result = buffer.withUnsafeMutableBytes { session.read(into: $0) }
      let outcome: HTTPResponseParser.Outcome
      switch result {
      case .ok(let count):
        received = true
        outcome = buffer.withUnsafeBytes {
          parser.parse(UnsafeRawBufferPointer(rebasing: $0[0..<count]))
        }
      case .wantRead, .wantWrite:
        throw HTTPClientError(.timeout, "\(endpoint) sent no response within \(seconds)")
      case .closed, .failed:
        guard received else {
          throw HTTPClientError(.closed, "\(endpoint) closed the connection without a response")
        }
        outcome = parser.finish()
      }
      switch outcome {
      case .needMore: continue
      case .response(let response): return response
      case .failure(let error): throw error
      }
    }
  }

  // MARK: - Connecting

  private func currentSession() throws(HTTPClientError) -> TLSSession {
    if let connection { return connection.session }
    let descriptor = try connectSocket()
    do {
      let session = try TLSSession(
        context: context, fileDescriptor: descriptor, expectedPeerIdentity: nil,
        serverName: host)
      switch session.handshake() {
      case .ok:
        break
      case .wantRead, .wantWrite:
        throw HTTPClientError(.timeout, "\(endpoint) did not complete TLS within \(seconds)")
      case .closed:
        throw HTTPClientError(.tls, "\(endpoint) closed the connection during the TLS handshake")
      case .failed(let error):
        throw HTTPClientError(.tls, "TLS with \(endpoint) failed: \(error.message)")
      }
      connection = (descriptor, session)
      return session
    } catch let error as HTTPClientError {
      Glibc.close(descriptor)
      throw error
    } catch {
      Glibc.close(descriptor)
      throw HTTPClientError(.tls, "TLS with \(endpoint) failed: \(error)")
    }
  }

  private func connectSocket() throws(HTTPClientError) -> Int32 {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(host, String(port), &hints, &list)
    guard status == 0, let first = list else {
      let reason = String(cString: gai_strerror(status))
      throw HTTPClientError(.unreachable, "cannot resolve '\(host)': \(reason)")
    }
    defer { freeaddrinfo(list) }

    var lastError = "no address"
    var entry: UnsafeMutablePointer<addrinfo>? = first
    while let address = entry {
      entry = address.pointee.ai_next
      let descriptor = socket(
        address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
      guard descriptor >= 0 else { continue }
      if let failure = connect(descriptor, to: address.pointee) {
        lastError = failure
        Glibc.close(descriptor)
        continue
      }
      applyTimeouts(descriptor)
      var one: Int32 = 1
      setsockopt(
        descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
      return descriptor
    }
    throw HTTPClientError(.unreachable, "cannot connect to \(endpoint): \(lastError)")
  }

  /// Connects within the timeout; returns why it failed, or `nil`.
  private func connect(_ descriptor: Int32, to address: addrinfo) -> String? {
    let flags = fcntl(descriptor, F_GETFL, 0)
    _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
    defer { _ = fcntl(descriptor, F_SETFL, flags) }

    if Glibc.connect(descriptor, address.ai_addr, address.ai_addrlen) == 0 { return nil }
    let code = kp_errno()
    guard code == EINPROGRESS else { return String(cString: strerror(code)) }
    var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
    guard poll(&poller, 1, Int32(clamping: milliseconds)) == 1 else {
      return "no answer within \(seconds)"
    }
    var socketError: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &socketError, &length)
    return socketError == 0 ? nil : String(cString: strerror(socketError))
  }

  private func applyTimeouts(_ descriptor: Int32) {
    let micros = milliseconds * 1000
    var value = timeval(tv_sec: Int(micros / 1_000_000), tv_usec: Int(micros % 1_000_000))
    let size = socklen_t(MemoryLayout<timeval>.size)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, size)
    setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &value, size)
  }

  private func dropConnection() {
    guard let connection else { return }
    connection.session.shutdown()
    Glibc.close(connection.descriptor)
    self.connection = nil
  }

  // MARK: - Encoding

  private func encode(
    _ method: HTTPMethod, _ target: String, headers: [(String, String)], body: [UInt8]
  ) throws(HTTPClientError) -> [UInt8] {
    guard target.hasPrefix("/"), !target.contains(where: { $0 == " " || $0.isNewline }) else {
      throw HTTPClientError(.invalidRequest, "the request target '\(target)' is not a path")
    }
    var text = "\(method.rawValue) \(target) HTTP/1.1\r\n"
    text += "Host: \(hostHeader)\r\n"
    text += "User-Agent: knowledgeplane-client\r\n"
    for (name, value) in headers {
      guard !name.isEmpty, !name.contains(where: { $0 == ":" || $0.isWhitespace }),
        !value.contains(where: \.isNewline)
      else {
        throw HTTPClientError(.invalidRequest, "the header '\(name)' cannot be sent")
      }
      text += "\(name): \(value)\r\n"
    }
    if !body.isEmpty || method == .post || method == .put || method == .patch {
      text += "Content-Length: \(body.count)\r\n"
    }
    text += "\r\n"
    return Array(text.utf8) + body
  }

  private var hostHeader: String {
    host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
  }

  private var endpoint: String { "https://\(hostHeader)" }

  private var milliseconds: Int64 {
    timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
  }

  private var seconds: String {
    let value = Double(milliseconds) / 1000
    return value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
  }
}
