import Synchronization
import Testing

@testable import KPRPC

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
}

private final class Fired: Sendable {
  private let storage = Mutex<[Int]>([])
  func add(_ value: Int) { storage.withLock { $0.append(value) } }
  var values: [Int] { storage.withLock { $0 } }
}
