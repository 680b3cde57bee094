import KPRPC

#if canImport(Glibc)
  import Glibc
#endif

/// Checks that a TCP connection to the target opens, before any RPC, so an unreachable gateway
/// is reported with the system's reason (`Connection refused`, an unknown host) rather than as
/// a failed call.
enum TargetProbe {
  /// Opens and closes one TCP connection.
  ///
  /// - Parameter target: The gateway's address.
  /// - Throws: ``LoadError`` with code `unreachable` naming the reason.
  static func check(_ target: SocketAddress) throws(LoadError) {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    let resolved = getaddrinfo(target.host, String(target.port), &hints, &list)
    guard resolved == 0, let first = list else {
      let reason = String(cString: gai_strerror(resolved))
      throw LoadError(
        .unreachable, "cannot resolve the gateway's host '\(target.host)': \(reason)")
    }
    defer { freeaddrinfo(list) }

    var reason = "no address"
    var entry: UnsafeMutablePointer<addrinfo>? = first
    while let address = entry {
      let descriptor = socket(address.pointee.ai_family, address.pointee.ai_socktype, 0)
      if descriptor >= 0 {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(
          descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = connect(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen)
        let failure = errno
        close(descriptor)
        if connected == 0 { return }
        reason = String(cString: strerror(failure))
      }
      entry = address.pointee.ai_next
    }
    throw LoadError(
      .unreachable,
      "cannot reach the gateway at \(target): \(reason); check that kp-gateway runs and that "
        + "--target (or --https-target) names its port")
  }
}
