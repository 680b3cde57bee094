import CSystem
import KPRPC

#if canImport(Glibc)
  import Glibc
#endif

/// The address of a connected socket's peer.
enum PeerAddress {
  /// The peer's IPv4 address and port, or nil when the socket cannot tell.
  static func of(_ descriptor: Int32) -> SocketAddress? {
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
}
