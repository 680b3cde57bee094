import KPTLS

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A connected pair of non-blocking TCP sockets on 127.0.0.1, closed on deinit.
final class LoopbackConnection {
  let client: Int32
  let server: Int32

  private init(client: Int32, server: Int32) {
    self.client = client
    self.server = server
  }

  deinit {
    close(client)
    close(server)
  }

  struct SocketError: Error, CustomStringConvertible {
    var description: String
  }

  /// Listens on an ephemeral loopback port, connects to it and accepts the connection.
  static func make() throws -> LoopbackConnection {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard listener >= 0 else { throw failure("socket") }
    defer { close(listener) }

    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
        bind(listener, socketAddress, length) == 0 && listen(listener, 4) == 0
          && getsockname(listener, socketAddress, &length) == 0
      }
    }
    guard bound else { throw failure("bind/listen") }

    let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard client >= 0 else { throw failure("socket") }
    let connected = withUnsafePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
        connect(client, socketAddress, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
      }
    }
    guard connected else {
      close(client)
      throw failure("connect")
    }
    let server = accept(listener, nil, nil)
    guard server >= 0 else {
      close(client)
      throw failure("accept")
    }
    for descriptor in [client, server] {
      _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
      var on: Int32 = 1
      _ = setsockopt(
        descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    }
    return LoopbackConnection(client: client, server: server)
  }

  /// Waits up to `milliseconds` for either socket to become readable.
  func waitBriefly(milliseconds: Int32 = 5) {
    var descriptors = [
      pollfd(fd: client, events: Int16(POLLIN), revents: 0),
      pollfd(fd: server, events: Int16(POLLIN), revents: 0),
    ]
    _ = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
  }

  private static func failure(_ call: String) -> SocketError {
    SocketError(description: "\(call) failed: \(String(cString: strerror(errno)))")
  }
}

/// How one side's handshake ended in a test.
enum HandshakeOutcome: CustomStringConvertible {
  case ok
  case closed
  case failed(TLSError)
  case timedOut

  var error: TLSError? {
    if case .failed(let error) = self { return error }
    return nil
  }

  var succeeded: Bool {
    if case .ok = self { return true }
    return false
  }

  var description: String {
    switch self {
    case .ok: "ok"
    case .closed: "closed"
    case .failed(let error): "failed(\(error))"
    case .timedOut: "timedOut"
    }
  }

  init?(_ result: TLSResult<Void>) {
    switch result {
    case .ok: self = .ok
    case .closed: self = .closed
    case .failed(let error): self = .failed(error)
    case .wantRead, .wantWrite: return nil
    }
  }
}

/// Drives both handshakes on one thread until each side finishes, bounded in rounds and
/// time. Once one side has failed the other gets a short grace period.
func runHandshakes(
  client: TLSSession?,
  server: TLSSession?,
  over connection: LoopbackConnection
) -> (client: HandshakeOutcome, server: HandshakeOutcome) {
  var clientOutcome: HandshakeOutcome? = client == nil ? .timedOut : nil
  var serverOutcome: HandshakeOutcome? = server == nil ? .timedOut : nil
  let clock = ContinuousClock()
  let deadline = clock.now.advanced(by: .seconds(5))
  var graceRounds = 60
  var rounds = 0
  while rounds < 5000, clock.now < deadline {
    rounds += 1
    if clientOutcome == nil, let client { clientOutcome = HandshakeOutcome(client.handshake()) }
    if serverOutcome == nil, let server { serverOutcome = HandshakeOutcome(server.handshake()) }
    if clientOutcome != nil && serverOutcome != nil { break }
    if clientOutcome?.error != nil || serverOutcome?.error != nil {
      graceRounds -= 1
      if graceRounds == 0 { break }
    }
    connection.waitBriefly()
  }
  return (clientOutcome ?? .timedOut, serverOutcome ?? .timedOut)
}

/// Reads once the session has something to say: data, a close, or a failure. Bounded.
func readResult(
  _ session: TLSSession,
  over connection: LoopbackConnection,
  into buffer: UnsafeMutableRawBufferPointer
) -> TLSResult<Int> {
  var last = TLSResult<Int>.wantRead
  for _ in 0..<400 {
    last = session.read(into: buffer)
    switch last {
    case .wantRead, .wantWrite: connection.waitBriefly()
    default: return last
    }
  }
  return last
}

/// Reads a whole message of `count` bytes, or returns `nil`. Bounded.
func readBytes(
  _ count: Int,
  from session: TLSSession,
  over connection: LoopbackConnection
) -> [UInt8]? {
  var received: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: max(count, 1))
  for _ in 0..<1000 where received.count < count {
    let result = buffer.withUnsafeMutableBytes { raw in
      session.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[..<(count - received.count)]))
    }
    switch result {
    case .ok(let n): received += buffer[..<n]
    case .wantRead, .wantWrite: connection.waitBriefly()
    case .closed, .failed: return nil
    }
  }
  return received.count == count ? received : nil
}

/// Writes all of `bytes`, or returns `false`. Bounded.
func writeAll(
  _ bytes: [UInt8],
  to session: TLSSession,
  over connection: LoopbackConnection
) -> Bool {
  var offset = 0
  for _ in 0..<1000 where offset < bytes.count {
    let result = bytes.withUnsafeBytes { raw in
      session.write(UnsafeRawBufferPointer(rebasing: raw[offset...]))
    }
    switch result {
    case .ok(let n): offset += n
    case .wantRead, .wantWrite: connection.waitBriefly()
    case .closed, .failed: return false
    }
  }
  return offset == bytes.count
}
