import CSystem
import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A listening socket watched by an event loop: every server on the loops (the RPC server, the
/// gateway's HTTPS server) accepts through one.
///
/// Accepted sockets arrive non-blocking, close-on-exec and with `TCP_NODELAY`, handed to
/// `onAccept` on the loop's thread. When the process runs out of file descriptors the pending
/// connection cannot be taken and the socket stays readable; the listener then stops watching
/// it for a moment instead of spinning on a socket it cannot drain.
public final class Listener: EventLoopHandler, @unchecked Sendable {
  /// How long accepting pauses when no descriptor is free.
  private static let exhaustedPause: Duration = .milliseconds(100)

  /// The port the socket is bound to.
  public let port: Int

  private let descriptor: Int32
  private let loop: EventLoop
  private let onAccept: @Sendable (Int32) -> Void

  // Loop-thread state.
  private var paused = false
  private var closed = false

  private init(
    descriptor: Int32, port: Int, loop: EventLoop, onAccept: @escaping @Sendable (Int32) -> Void
  ) {
    self.descriptor = descriptor
    self.port = port
    self.loop = loop
    self.onAccept = onAccept
  }

  /// Binds, listens and starts accepting on `loop`; returns once the loop watches the socket.
  ///
  /// - Parameter onAccept: Receives each accepted socket on the loop's thread; it owns it.
  public static func start(
    on address: SocketAddress, loop: EventLoop,
    onAccept: @escaping @Sendable (Int32) -> Void
  ) throws(RPCError) -> Listener {
    let (descriptor, port) = try Socket.listen(on: address)
    let listener = Listener(descriptor: descriptor, port: port, loop: loop, onAccept: onAccept)

    let registered = Mutex(false)
    let done = DispatchSemaphore(value: 0)
    loop.execute {
      let ok = loop.register(descriptor, events: EPOLLIN.rawValue, handler: listener)
      registered.withLock { $0 = ok }
      done.signal()
    }
    done.wait()
    guard registered.withLock({ $0 }) else {
      Glibc.close(descriptor)
      throw Socket.failure("watching the listening socket on \(address)")
    }
    return listener
  }

  /// Stops accepting and closes the socket; connections already accepted are not touched.
  public func close() {
    loop.execute { [self] in
      guard !closed else { return }
      closed = true
      loop.deregister(descriptor)
      Glibc.close(descriptor)
    }
  }

  public func handleEvents(_ events: UInt32) {
    // A bounded batch per turn, so a flood of connections cannot starve the loop's others.
    for _ in 0..<256 where !closed {
      guard let accepted = Socket.accept(descriptor) else {
        let code = kp_errno()
        if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM {
          pauseAccepting()
        }
        return
      }
      onAccept(accepted)
    }
  }

  private func pauseAccepting() {
    guard !paused, !closed else { return }
    paused = true
    loop.modify(descriptor, events: 0)
    loop.scheduleTimer(after: Self.exhaustedPause) { [weak self] in
      guard let self, self.paused, !self.closed else { return }
      self.paused = false
      self.loop.modify(self.descriptor, events: EPOLLIN.rawValue)
    }
  }
}
