import CSystem
import KPTLS

#if canImport(Glibc)
  import Glibc
#endif

/// A small blocking HTTPS client on loopback, for sending what a browser never would.
///
/// Every read waits at most `timeout`; nothing here can hang a test. One thread at a time
/// uses a client.
final class TestHTTPSClient: @unchecked Sendable {
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  let descriptor: Int32
  private var session: TLSSession?
  private let reader = TestResponseReader()
  private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

  /// Connects without TLS; reads and writes wait at most `timeout`.
  init(port: Int, timeout: Duration = .seconds(5)) throws {
    descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
      }
    }
    guard connected else {
      close(descriptor)
      throw Failure(description: "connect to port \(port) failed")
    }
    setTimeout(timeout)
  }

  /// Connects and completes a TLS handshake, verifying the server against `context`'s roots.
  convenience init(port: Int, tls context: TLSContext, timeout: Duration = .seconds(5)) throws {
    try self.init(port: port, timeout: timeout)
    try startTLS(context)
  }

  deinit { close(descriptor) }

  /// Changes how long reads and writes wait.
  func setTimeout(_ timeout: Duration) {
    let micros =
      timeout.components.seconds * 1_000_000
      + timeout.components.attoseconds / 1_000_000_000_000
    var value = timeval(tv_sec: Int(micros / 1_000_000), tv_usec: Int(micros % 1_000_000))
    let size = socklen_t(MemoryLayout<timeval>.size)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, size)
    setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &value, size)
  }

  /// Completes a TLS handshake.
  func startTLS(_ context: TLSContext) throws {
    let session = try TLSSession(
      context: context, fileDescriptor: descriptor, expectedPeerIdentity: nil,
      serverName: "127.0.0.1")
    guard case .ok = session.handshake() else {
      throw Failure(description: "TLS handshake failed")
    }
    self.session = session
  }

  /// Writes everything; false when the connection refused some of it.
  @discardableResult
  func send(_ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let written: Int = bytes[offset...].withUnsafeBytes { raw in
        if let session {
          guard case .ok(let count) = session.write(raw) else { return -1 }
          return count
        }
        return Glibc.send(descriptor, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
      }
      guard written > 0 else { return false }
      offset += written
    }
    return true
  }

  /// Writes text.
  @discardableResult
  func send(_ text: String) -> Bool { send(Array(text.utf8)) }

  private enum ReadResult { case bytes, closed, timedOut }

  private func readSome() -> ReadResult {
    if let session {
      let result = buffer.withUnsafeMutableBytes { session.read(into: $0) }
      switch result {
      case .ok(let count):
        buffer.withUnsafeBytes { reader.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        return .bytes
      case .wantRead, .wantWrite:
        return .timedOut
      case .closed, .failed:
        return .closed
      }
    }
    let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
    if count > 0 {
      buffer.withUnsafeBytes { reader.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
      return .bytes
    }
    let code = kp_errno()
    return count < 0 && (code == EAGAIN || code == EWOULDBLOCK) ? .timedOut : .closed
  }

  /// Reads the next response; throws when the connection closes or times out first.
  func readResponse(toHEAD: Bool = false) throws -> TestResponse {
    reader.skipsBody = toHEAD
    for _ in 0..<10_000 {
      if let response = reader.next() { return response }
      if reader.failed { throw Failure(description: "the response is not valid HTTP") }
      switch readSome() {
      case .bytes: continue
      case .closed: throw Failure(description: "the server closed the connection")
      case .timedOut: throw Failure(description: "no response in time")
      }
    }
    throw Failure(description: "the response never completed")
  }

  /// Reads until the server closes; true when it did within the timeout.
  func waitForClose() -> Bool {
    for _ in 0..<10_000 {
      switch readSome() {
      case .bytes: continue
      case .closed: return true
      case .timedOut: return false
      }
    }
    return false
  }

  /// Whether the server closed or sent something within `milliseconds`, without reading TLS.
  func isReadable(withinMilliseconds milliseconds: Int32) -> Bool {
    if let session, session.hasBufferedInput { return true }
    var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
    return poll(&poller, 1, milliseconds) > 0
  }
}

extension TestHTTPSClient {
  /// A request's bytes with `Host` and, when there is a body, `Content-Length`.
  static func request(
    _ method: String, _ target: String, headers: [(String, String)] = [], body: String? = nil
  ) -> String {
    var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for (name, value) in headers { text += "\(name): \(value)\r\n" }
    if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
    text += "\r\n"
    return text + (body ?? "")
  }
}
