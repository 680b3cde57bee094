import Dispatch
import Foundation

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
public final class ShutdownSignalHandler: @unchecked Sendable {
  /// The signals a service treats as a request to shut down: SIGTERM (from Kubernetes and
  /// process managers) and SIGINT (Control-C).
  public static let defaultSignals: [Int32] = [SIGTERM, SIGINT]

  // `sources`, `received` and `cancelled` are only touched with `lock` held, which is what makes
  // the class Sendable.
  private let lock = NSLock()
  private var sources: [any DispatchSourceSignal] = []
  private var received: Int32?
  private var cancelled = false
  private let exitsOnSecondSignal: Bool
  private let onShutdown: @Sendable (Int32) async -> Void

  private init(exitsOnSecondSignal: Bool, onShutdown: @escaping @Sendable (Int32) async -> Void) {
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
      exitsOnSecondSignal: exitsOnSecondSignal, onShutdown: onShutdown)
    let queue = DispatchQueue(label: "knowledgeplane.shutdown-signals")
    handler.lock.withLock {
      for signalNumber in signals {
        // Dispatch sees the signal only once its default action no longer ends the process.
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
        source.setEventHandler { [weak handler] in
          handler?.deliver(signalNumber)
        }
        source.resume()
        handler.sources.append(source)
      }
    }
    return handler
  }

  /// The first shutdown signal received, or `nil` before any arrives.
  public var receivedSignal: Int32? {
    lock.withLock { received }
  }

  /// Stops listening and restores the signals' default actions.
  public func cancel() {
    let stopped: [any DispatchSourceSignal] = lock.withLock {
      cancelled = true
      defer { sources = [] }
      return sources
    }
    for source in stopped {
      source.cancel()
      signal(Int32(source.handle), SIG_DFL)
    }
  }

  private func deliver(_ signalNumber: Int32) {
    let isFirst: Bool = lock.withLock {
      guard !cancelled else { return false }
      if received == nil {
        received = signalNumber
        return true
      }
      return false
    }
    if isFirst {
      let onShutdown = self.onShutdown
      Task { await onShutdown(signalNumber) }
    } else if exitsOnSecondSignal && receivedSignal != nil && !lock.withLock({ cancelled }) {
      exit(128 + signalNumber)
    }
  }
}
