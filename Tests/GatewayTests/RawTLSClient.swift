import KPTLS

#if canImport(Glibc)
  import Glibc
#endif

/// A blocking TLS connection that sends bytes exactly as given, for requests no HTTP client
/// would send (a trickle of bytes, oversized headers). Reads wait at most the timeout.
final class RawTLSClient: @unchecked Sendable {
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  private let descriptor: Int32
  private let session: TLSSession

  /// Connects to loopback and completes a TLS handshake verified against `caPath`.
  init(port: Int, caPath: String, timeout: Duration = .seconds(10)) throws {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    self.descriptor = descriptor
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
      throw Failure(description: "cannot connect to port \(port)")
    }
    var value = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    var configuration = TLSConfiguration.externalClient(trustRoots: caPath)
    configuration.alpnProtocols = ["http/1.1"]
    let session = try TLSSession(
      context: try TLSContext(configuration: configuration), fileDescriptor: descriptor,
      expectedPeerIdentity: nil, serverName: "127.0.0.1")
    guard case .ok = session.handshake() else {
      close(descriptor)
      throw Failure(description: "the TLS handshake failed")
    }
    self.session = session
  }

  deinit { close(descriptor) }

  /// Writes bytes; false once the server has closed.
  @discardableResult
  func send(_ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let result = bytes[offset...].withUnsafeBytes { session.write($0) }
      guard case .ok(let count) = result, count > 0 else { return false }
      offset += count
    }
    return true
  }

  /// Whether the server sent something or closed, without waiting.
  var isReadable: Bool {
    if session.hasBufferedInput { return true }
    var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
    return poll(&poller, 1, 0) > 0
  }

  /// Reads until the server closes or the timeout passes; returns what arrived.
  func readUntilClosed() -> (bytes: [UInt8], closed: Bool) {
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16 * 1024)
    while true {
      let result = buffer.withUnsafeMutableBytes { session.read(into: $0) }
      switch result {
      case .ok(let count) where count > 0:
        received += buffer[0..<count]
      case .wantRead, .wantWrite:
        return (received, false)
      default:
        return (received, true)
      }
    }
  }
}
