import Dispatch
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Turns SIGTERM and SIGINT into a graceful shutdown.
///
/// The first signal calls the shutdown callback once, in a new task: a service stops accepting
/// work, lets in-flight calls finish and returns from `run()`. A second signal, while the drain
/// is still going, ends the process at once with status 128 + the signal number, the way a shell
/// reports a process killed by that signal.
///
/// ```swift
/// let signals = ShutdownSignalHandler.install { signal in
///   await server.shutDownGracefully()
/// }
/// ```
///
/// How signals arrive: a process-directed signal goes to any one thread that does not block it.
/// Dispatch's own signal sources see a signal only when every thread blocks it, which threads
/// created outside Dispatch (an event loop, a database driver) do not, so on Linux a signal can
/// be lost to them. Instead a minimal C handler, which runs on whichever thread the kernel
/// picks, writes the signal number to a pipe; a Dispatch read source on that pipe calls the
/// handlers. Writing to a pipe is async-signal-safe, and nothing else happens in the handler.
public final class ShutdownSignalHandler: @unchecked Sendable {
  /// The signals a service treats as a request to shut down: SIGTERM (from Kubernetes and
  /// process managers) and SIGINT (Control-C).
  public static let defaultSignals: [Int32] = [SIGTERM, SIGINT]

  // `received` and `cancelled` are only touched with `lock` held, which is what makes the class
  // Sendable; the other properties never change.
  private let lock = NSLock()
  private var received: Int32?
  private var cancelled = false
  private let signals: Set<Int32>
  private let exitsOnSecondSignal: Bool
  private let onShutdown: @Sendable (Int32) async -> Void

  private init(
    signals: Set<Int32>,
    exitsOnSecondSignal: Bool,
    onShutdown: @escaping @Sendable (Int32) async -> Void
  ) {
    self.signals = signals
    self.exitsOnSecondSignal = exitsOnSecondSignal
    self.onShutdown = onShutdown
  }

  /// Starts listening for shutdown signals.
  ///
  /// The signals' default actions are replaced (a listened-to signal no longer ends the process
  /// by itself) until ``cancel()`` restores them.
  ///
  /// - Parameters:
  ///   - signals: The signals to listen for. Default: ``defaultSignals``.
  ///   - exitsOnSecondSignal: Whether a second signal ends the process at once. Default: `true`.
  ///   - onShutdown: Called once, in a new task, with the first signal received.
  /// - Returns: The handler; keep it for as long as signals should be handled.
  public static func install(
    signals: [Int32] = defaultSignals,
    exitsOnSecondSignal: Bool = true,
    onShutdown: @escaping @Sendable (Int32) async -> Void
  ) -> ShutdownSignalHandler {
    let handler = ShutdownSignalHandler(
      signals: Set(signals), exitsOnSecondSignal: exitsOnSecondSignal, onShutdown: onShutdown)
    SignalRelay.shared.register(handler)
    return handler
  }

  /// The first shutdown signal received, or `nil` before any arrives.
  public var receivedSignal: Int32? {
    lock.withLock { received }
  }

  /// Stops listening. A signal no other handler listens for gets its default action back.
  public func cancel() {
    let wasActive = lock.withLock {
      defer { cancelled = true }
      return !cancelled
    }
    if wasActive {
      SignalRelay.shared.unregister(self)
    }
  }

  /// The signals this handler listens for.
  var listenedSignals: Set<Int32> { signals }

  /// Called by the relay, on its queue, for each signal this handler listens for.
  func deliver(_ signalNumber: Int32) {
    let (isFirst, isActive): (Bool, Bool) = lock.withLock {
      guard !cancelled else { return (false, false) }
      if received == nil {
        received = signalNumber
        return (true, true)
      }
      return (false, true)
    }
    if isFirst {
      let onShutdown = self.onShutdown
      Task { await onShutdown(signalNumber) }
    } else if isActive && exitsOnSecondSignal {
      exit(128 + signalNumber)
    }
  }
}

/// The write end of the signal pipe, read by the C signal handler. Set once, before any handler
/// is installed, and never changed: reading it from a signal handler is safe.
private nonisolated(unsafe) var signalPipeWriteEnd: Int32 = -1

/// The C signal handler: writes the signal number to the pipe and nothing else.
private func relaySignal(_ signalNumber: Int32) {
  let savedErrno = errno
  var byte = UInt8(truncatingIfNeeded: signalNumber)
  _ = write(signalPipeWriteEnd, &byte, 1)
  errno = savedErrno
}

/// Owns the signal pipe, its Dispatch read source and the registered handlers.
private final class SignalRelay: @unchecked Sendable {
  static let shared = SignalRelay()

  // `handlers` and `installed` are only touched with `lock` held.
  private let lock = NSLock()
  private var handlers: [ObjectIdentifier: ShutdownSignalHandler] = [:]
  private var installed: Set<Int32> = []
  private let readEnd: Int32
  private let source: any DispatchSourceRead

  private init() {
    var ends: [Int32] = [-1, -1]
    guard pipe(&ends) == 0 else {
      fatalError("cannot create the shutdown signal pipe: \(String(cString: strerror(errno)))")
    }
    for end in ends {
      _ = fcntl(end, F_SETFD, FD_CLOEXEC)
      _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
    }
    readEnd = ends[0]
    signalPipeWriteEnd = ends[1]

    let queue = DispatchQueue(label: "knowledgeplane.shutdown-signals")
    source = DispatchSource.makeReadSource(fileDescriptor: readEnd, queue: queue)
    source.setEventHandler { [unowned self] in
      self.drain()
    }
    source.resume()
  }

  func register(_ handler: ShutdownSignalHandler) {
    lock.withLock {
      handlers[ObjectIdentifier(handler)] = handler
      for signalNumber in handler.listenedSignals where !installed.contains(signalNumber) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = relaySignal
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(signalNumber, &action, nil)
        installed.insert(signalNumber)
      }
    }
  }

  func unregister(_ handler: ShutdownSignalHandler) {
    lock.withLock {
      handlers[ObjectIdentifier(handler)] = nil
      let stillListened = handlers.values.reduce(into: Set<Int32>()) {
        $0.formUnion($1.listenedSignals)
      }
      for signalNumber in installed.subtracting(stillListened) {
        signal(signalNumber, SIG_DFL)
        installed.remove(signalNumber)
      }
    }
  }

  /// Reads every signal number waiting in the pipe and hands each to its handlers.
  private func drain() {
    var buffer = [UInt8](repeating: 0, count: 64)
    while true {
      let count = read(readEnd, &buffer, buffer.count)
      guard count > 0 else { return }
      for byte in buffer[0..<count] {
        let signalNumber = Int32(byte)
        let targets = lock.withLock {
          handlers.values.filter { $0.listenedSignals.contains(signalNumber) }
        }
        for handler in targets {
          handler.deliver(signalNumber)
        }
      }
    }
  }
}
