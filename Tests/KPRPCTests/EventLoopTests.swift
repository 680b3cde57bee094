import Synchronization
import Testing

@testable import KPRPC

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Event loop")
struct EventLoopTests {
  /// Runs `body` on the loop and returns its result.
  private func onLoop<T: Sendable>(_ loop: EventLoop, _ body: @escaping @Sendable () -> T) async
    -> T
  {
    await withCheckedContinuation { continuation in
      loop.execute { continuation.resume(returning: body()) }
    }
  }

  @Test("timers fire in deadline order, and cancelled ones leave the heap at once")
  func timers() async throws {
    let loop = EventLoop(name: "test-loop")
    defer { loop.shutdown() }
    let fired = Fired()

    let remaining = await onLoop(loop) {
      for delay in [30, 10, 20] {
        loop.scheduleTimer(after: .milliseconds(delay)) { fired.add(delay) }
      }
      let cancelled = (0..<1_000).map { _ in
        loop.scheduleTimer(after: .seconds(30)) { fired.add(-1) }
      }
      for timer in cancelled { timer.cancel() }
      return loop.scheduledTimerCount
    }
    #expect(remaining == 3)

    let deadline = ContinuousClock.now + .seconds(5)
    while fired.values.count < 3 && ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(5))
    }
    #expect(fired.values == [10, 20, 30])
    #expect(await onLoop(loop) { loop.scheduledTimerCount } == 0)
  }

  @Test("work submitted from many threads runs on the loop's thread, in order per thread")
  func execute() async {
    let loop = EventLoop(name: "test-loop")
    defer { loop.shutdown() }
    let seen = Fired()
    await withTaskGroup(of: Void.self) { group in
      for sender in 0..<4 {
        group.addTask {
          for index in 0..<250 {
            await withCheckedContinuation { continuation in
              loop.execute {
                if loop.inEventLoop { seen.add(sender * 1_000 + index) }
                continuation.resume()
              }
            }
          }
        }
      }
    }
    let values = seen.values
    #expect(values.count == 1_000)
    for sender in 0..<4 {
      let mine = values.filter { $0 / 1_000 == sender }
      #expect(mine == mine.sorted())
    }
  }

  @Test("a busy-polling loop polls for its budget after work, then sleeps; work and timers run")
  func busyPoll() async throws {
    let loop = EventLoop(name: "test-loop")
    defer { loop.shutdown() }

    // Off by default: work does not make the loop poll.
    #expect(loop.busyPoll == .zero)
    #expect(await onLoop(loop) { 1 } == 1)
    try await Task.sleep(for: .milliseconds(50))
    #expect(loop.busyPollCount == 0)

    // Work and timers run while the loop polls.
    loop.busyPoll = .milliseconds(60)
    #expect(loop.busyPoll == .milliseconds(60))
    let fired = Fired()
    let scheduled = await onLoop(loop) {
      loop.scheduleTimer(after: .milliseconds(20)) { fired.add(1) }
      return loop.scheduledTimerCount
    }
    #expect(scheduled == 1)
    for index in 0..<100 { #expect(await onLoop(loop) { index } == index) }
    let deadline = ContinuousClock.now + .seconds(5)
    while fired.values.isEmpty && ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(5))
    }
    #expect(fired.values == [1])

    // After work it polls; once the budget has passed with nothing to do, it sleeps.
    let beforeWork = loop.busyPollCount
    #expect(await onLoop(loop) { 2 } == 2)
    try await Task.sleep(for: .milliseconds(200))
    let afterBudget = loop.busyPollCount
    #expect(afterBudget > beforeWork)
    let idleStart = await onLoop(loop) { Self.threadCPUTime() }
    try await Task.sleep(for: .milliseconds(200))
    let idleCount = loop.busyPollCount
    try await Task.sleep(for: .milliseconds(300))
    #expect(loop.busyPollCount == idleCount, "polled while idle")
    let idleEnd = await onLoop(loop) { Self.threadCPUTime() }
    // Only the budget after the measuring job itself: a loop that kept polling would use 500 ms.
    #expect(idleEnd - idleStart < .milliseconds(250), "used \(idleEnd - idleStart) while idle")

    // A smaller budget takes effect at once, even within a longer window already begun.
    loop.busyPoll = .seconds(1)
    #expect(await onLoop(loop) { 3 } == 3)
    loop.busyPoll = .milliseconds(1)
    try await Task.sleep(for: .milliseconds(100))
    let shortened = loop.busyPollCount
    try await Task.sleep(for: .milliseconds(200))
    #expect(loop.busyPollCount == shortened, "still polling on the old budget")

    // Zero turns polling off again.
    loop.busyPoll = .zero
    let beforeOff = loop.busyPollCount
    #expect(await onLoop(loop) { 4 } == 4)
    try await Task.sleep(for: .milliseconds(100))
    #expect(loop.busyPollCount == beforeOff)
  }

  /// The processor time of the calling thread.
  private static func threadCPUTime() -> Duration {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
  }
}

private final class Fired: Sendable {
  private let storage = Mutex<[Int]>([])
  func add(_ value: Int) { storage.withLock { $0.append(value) } }
  var values: [Int] { storage.withLock { $0 } }
}
