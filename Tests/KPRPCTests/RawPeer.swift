import KPProtocol
import KPRPC
import KPTLS
import KPTesting

#if canImport(Glibc)
  import Glibc
#endif

/// A hand-driven peer on a blocking socket, for sending what a well-behaved client never would.
final class RawPeer {
  let descriptor: Int32
  var session: TLSSession?

  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// Connects to a loopback port with a receive timeout, without TLS.
  init(port: Int) throws {
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
    guard connected else { throw Failure(description: "connect failed") }
    var timeout = timeval(tv_sec: 3, tv_usec: 0)
    setsockopt(
      descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
  }

  deinit { close(descriptor) }

  /// Completes a TLS handshake with a client context.
  func handshake(context: TLSContext, expecting identity: String) throws {
    let session = try TLSSession(
      context: context, fileDescriptor: descriptor, expectedPeerIdentity: identity,
      serverName: nil)
    guard case .ok = session.handshake() else {
      throw Failure(description: "handshake failed")
    }
    self.session = session
  }

  /// Connects as the gateway to a knowledge server of `mesh`, completes the handshake and sends
  /// the settings frame: a peer ready to misbehave.
  static func meshClient(_ mesh: TestMesh, port: Int) throws -> RawPeer {
    let peer = try RawPeer(port: port)
    try peer.handshake(
      context: try mesh.clientContext(service: "gateway"),
      expecting: TestMesh.identity("knowledge"))
    peer.send(settings())
    return peer
  }

  /// Writes bytes, through TLS once the handshake is done.
  func send(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { raw in
      if let session {
        _ = session.write(raw)
      } else {
        _ = write(descriptor, raw.baseAddress, raw.count)
      }
    }
  }

  /// Writes one framed envelope.
  func send(_ envelope: Kp_Wire_V1_Envelope) {
    var bytes: [UInt8] = []
    FrameEncoder.append(envelope, to: &bytes)
    send(bytes)
  }

  /// Reads envelopes until the peer closes or the read times out; returns them in order.
  func readUntilClosed(limit: Int = 100) -> (envelopes: [Kp_Wire_V1_Envelope], closed: Bool) {
    var decoder = FrameDecoder(maximumFrameSize: 1 << 20)
    var envelopes: [Kp_Wire_V1_Envelope] = []
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16_384, alignment: 8)
    defer { buffer.deallocate() }
    for _ in 0..<limit {
      let count: Int
      if let session {
        guard case .ok(let read) = session.read(into: buffer) else {
          return (envelopes, true)
        }
        count = read
      } else {
        let read = recv(descriptor, buffer.baseAddress, buffer.count, 0)
        guard read > 0 else {
          // A reset counts as closed; a timeout (EAGAIN) does not.
          return (envelopes, read == 0 || errno == ECONNRESET)
        }
        count = read
      }
      decoder.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
      while (try? decoder.nextFrame({ frame in
        if let envelope = try? Kp_Wire_V1_Envelope(serializedBytes: frame) {
          envelopes.append(envelope)
        }
      })) == true {}
    }
    return (envelopes, false)
  }

  static func settings() -> Kp_Wire_V1_Envelope {
    var envelope = Kp_Wire_V1_Envelope()
    envelope.kind = .settings(Kp_Wire_V1_Settings())
    return envelope
  }
}
