import Foundation
import KPServiceKit
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A one-shot box the signal callback fills.
private final class SignalBox: @unchecked Sendable {
  // `value` is only touched with `lock` held.
  private let lock = NSLock()
  private var value: [Int32] = []

  func append(_ signal: Int32) { lock.withLock { value.append(signal) } }
  var signals: [Int32] { lock.withLock { value } }
}

// Both tests send SIGUSR2 to the process, so they must not overlap.
@Suite("ShutdownSignalHandler", .serialized)
struct ShutdownSignalHandlerTests {
  @Test("the first signal calls the shutdown callback once")
  func firstSignal() async throws {
    let box = SignalBox()
    // SIGUSR2 stands in for SIGTERM so the test process is never at risk.
    let handler = ShutdownSignalHandler.install(signals: [SIGUSR2], exitsOnSecondSignal: false) {
      signal in
      box.append(signal)
    }
    defer { handler.cancel() }

    // Threads made outside Dispatch block no signals, so the kernel may pick one of them.
    for _ in 0..<4 {
      Thread { usleep(500_000) }.start()
    }
    kill(getpid(), SIGUSR2)
    try await waitUntil { !box.signals.isEmpty }
    #expect(box.signals == [SIGUSR2])
    #expect(handler.receivedSignal == SIGUSR2)

    kill(getpid(), SIGUSR2)
    try await Task.sleep(for: .milliseconds(100))
    #expect(box.signals == [SIGUSR2])
  }

  @Test("every handler listening for a signal hears it, and a cancelled one does not")
  func severalHandlers() async throws {
    let first = SignalBox()
    let second = SignalBox()
    let one = ShutdownSignalHandler.install(signals: [SIGUSR2], exitsOnSecondSignal: false) {
      first.append($0)
    }
    let two = ShutdownSignalHandler.install(signals: [SIGUSR2], exitsOnSecondSignal: false) {
      second.append($0)
    }
    defer { two.cancel() }
    one.cancel()

    kill(getpid(), SIGUSR2)
    try await waitUntil { !second.signals.isEmpty }
    #expect(second.signals == [SIGUSR2])
    #expect(first.signals.isEmpty)
    #expect(one.receivedSignal == nil)
  }

  private func waitUntil(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(5)
    while !condition() && ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(10))
    }
  }
}
