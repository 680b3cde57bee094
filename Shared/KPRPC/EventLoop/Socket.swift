import CSystem

#if canImport(Glibc)
  import Glibc
#endif

/// A host and port to listen on or dial.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
  /// A host name or IPv4 address.
  public var host: String
  /// The TCP port; 0 asks the system for a free one when listening.
  public var port: Int

  /// Makes an address.
  public init(host: String, port: Int) {
    self.host = host
    self.port = port
  }

  /// Parses `host:port`.
  public init?(_ text: String) {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
      (0...65535).contains(port)
    else { return nil }
    self.host = String(text[..<colon])
    self.port = port
  }

  public var description: String { "\(host):\(port)" }
}

/// Thin wrappers over the BSD socket calls the runtime needs; listening and accepting are public
/// for other servers on the event loop (the gateway's HTTPS port).
public enum Socket {
  /// A failure of a socket call, with errno's text.
  public static func failure(_ what: String, _ errnoValue: Int32? = nil) -> RPCError {
    let code = errnoValue ?? kp_errno()
    return .unavailable("\(what) failed: \(String(cString: strerror(code)))")
  }

  /// Resolves a host to an IPv4 socket address (blocking; call off the event loop).
  static func resolve(_ address: SocketAddress) throws(RPCError) -> sockaddr_in {
    var result = sockaddr_in()
    result.sin_family = sa_family_t(AF_INET)
    result.sin_port = in_port_t(UInt16(address.port).bigEndian)

    let host = address.host == "localhost" || address.host.isEmpty ? "127.0.0.1" : address.host
    if inet_pton(AF_INET, host, &result.sin_addr) == 1 { return result }

    var hints = addrinfo()
    hints.ai_family = AF_INET
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(host, nil, &hints, &list)
    guard status == 0, let first = list, let found = first.pointee.ai_addr else {
      throw .unavailable("cannot resolve host '\(address.host)'")
    }
    defer { freeaddrinfo(list) }
    found.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
      result.sin_addr = $0.pointee.sin_addr
    }
    return result
  }

  /// Opens a non-blocking listening socket; returns it and the port it is bound to.
  public static func listen(on address: SocketAddress, backlog: Int32 = 1024) throws(RPCError) -> (
    Int32, Int
  ) {
    var socketAddress = try resolve(address)
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw failure("socket") }

    var one: Int32 = 1
    setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    let bound = withUnsafePointer(to: &socketAddress) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard bound == 0 else {
      let error = failure("bind to \(address)")
      close(descriptor)
      throw error
    }
    guard Glibc.listen(descriptor, backlog) == 0 else {
      let error = failure("listen on \(address)")
      close(descriptor)
      throw error
    }
    _ = kp_set_nonblocking(descriptor, 1)
    _ = kp_set_cloexec(descriptor)

    var actual = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &actual) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        getsockname(descriptor, $0, &length)
      }
    }
    return (descriptor, Int(UInt16(bigEndian: actual.sin_port)))
  }

  /// Accepts one pending connection as a non-blocking socket, or nil when none is pending.
  public static func accept(_ listener: Int32) -> Int32? {
    let descriptor = Glibc.accept(listener, nil, nil)
    guard descriptor >= 0 else { return nil }
    configureStream(descriptor)
    return descriptor
  }

  /// Starts a non-blocking connect; the socket becomes writable when it completes.
  static func startConnect(to address: sockaddr_in) throws(RPCError) -> Int32 {
    var address = address
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw failure("socket") }
    configureStream(descriptor)

    let result = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    let code = kp_errno()
    guard result == 0 || code == EINPROGRESS else {
      close(descriptor)
      throw failure("connect", code)
    }
    return descriptor
  }

  /// The IPv4 address and port of a connected socket's peer, or nil when the socket cannot
  /// tell.
  public static func peerAddress(_ descriptor: Int32) -> SocketAddress? {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let status = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        getpeername(descriptor, $0, &length)
      }
    }
    guard status == 0, address.sin_family == sa_family_t(AF_INET) else { return nil }
    var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
    guard inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count)) != nil else {
      return nil
    }
    let host = String(
      decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return SocketAddress(host: host, port: Int(UInt16(bigEndian: address.sin_port)))
  }

  /// The pending error of a socket (0 when a connect succeeded).
  static func pendingError(_ descriptor: Int32) -> Int32 {
    var value: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &value, &length)
    return value
  }

  private static func configureStream(_ descriptor: Int32) {
    _ = kp_set_nonblocking(descriptor, 1)
    _ = kp_set_cloexec(descriptor)
    var one: Int32 = 1
    setsockopt(
      descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
  }
}
