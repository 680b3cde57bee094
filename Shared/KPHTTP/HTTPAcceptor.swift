import CSystem
import KPRPC

#if canImport(Glibc)
  import Glibc
#endif

/// Accepts connections on a listening socket and hands each to its server.
///
/// When the process runs out of file descriptors, the pending connection cannot be taken and
/// the listener stays readable; the acceptor then stops watching it for a moment instead of
/// spinning on a socket it cannot drain.
final class HTTPAcceptor: EventLoopHandler, @unchecked Sendable {
  /// How long accepting pauses when no descriptor is free.
  private static let exhaustedPause: Duration = .milliseconds(100)

  private weak var server: HTTPServer?
  private let descriptor: Int32
  private let loop: EventLoop
  private var paused = false
  private var stopped = false

  init(server: HTTPServer, descriptor: Int32, loop: EventLoop) {
    self.server = server
    self.descriptor = descriptor
    self.loop = loop
  }

  func handleEvents(_ events: UInt32) {
    // A bounded batch per turn, so a flood of connections cannot starve the loop's others.
    for _ in 0..<256 {
      guard let accepted = Socket.accept(descriptor) else {
        let code = kp_errno()
        if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM {
          pauseAccepting()
        }
        return
      }
      if let server { server.accepted(accepted) } else { close(accepted) }
    }
  }

  /// Stops for good, before the server closes the listener. Call on the loop.
  func stop() {
    stopped = true
  }

  private func pauseAccepting() {
    guard !paused, !stopped else { return }
    paused = true
    loop.modify(descriptor, events: 0)
    loop.scheduleTimer(after: Self.exhaustedPause) { [weak self] in
      guard let self, self.paused, !self.stopped else { return }
      self.paused = false
      self.loop.modify(self.descriptor, events: EPOLLIN.rawValue)
    }
  }
}
