import Foundation
import Testing

@testable import Auth

/// The brute-force limiter as a pure state machine with an injected clock.
@Suite("Login throttle")
struct LoginThrottleTests {
  let start = Date(timeIntervalSince1970: 1_000_000)
  let policy = LoginThrottle.Policy(
    freeFailures: 3, baseDelay: 1, maximumDelay: 8, lockAfter: 8, lockDuration: 600,
    forgetAfter: 900)

  @Test("failures beyond the free ones slow down, doubling, then lock")
  func slowThenLock() {
    var throttle = LoginThrottle(policy: policy)
    var now = start
    for _ in 0..<3 {
      #expect(throttle.check("a", now: now) == .allow)
      throttle.recordFailure("a", now: now)
    }
    #expect(throttle.check("a", now: now) == .allow)
    throttle.recordFailure("a", now: now)  // 4th: wait 1 s
    #expect(throttle.check("a", now: now) == .slowDown(until: now.addingTimeInterval(1)))
    now += 1
    #expect(throttle.check("a", now: now) == .allow)
    throttle.recordFailure("a", now: now)  // 5th: wait 2 s
    #expect(throttle.check("a", now: now.addingTimeInterval(1.5)) == .slowDown(until: now + 2))
    now += 2
    throttle.recordFailure("a", now: now)  // 6th: 4 s
    now += 4
    throttle.recordFailure("a", now: now)  // 7th: 8 s (the cap)
    #expect(throttle.check("a", now: now) == .slowDown(until: now + 8))
    now += 8
    throttle.recordFailure("a", now: now)  // 8th: locked
    #expect(throttle.check("a", now: now + 599) == .locked(until: now + 600))
    #expect(throttle.check("b", now: now) == .allow)
    #expect(throttle.check("a", now: now + 600) == .allow)
  }

  @Test("a success clears the key; old failures are forgotten")
  func forget() {
    var throttle = LoginThrottle(policy: policy)
    for _ in 0..<5 { throttle.recordFailure("a", now: start) }
    throttle.recordSuccess("a")
    #expect(throttle.check("a", now: start) == .allow)
    for _ in 0..<5 { throttle.recordFailure("b", now: start) }
    #expect(throttle.check("b", now: start + 1) == .slowDown(until: start + 2))
    // 900 s later the five failures are forgotten: one more costs nothing.
    throttle.recordFailure("b", now: start + 900)
    #expect(throttle.check("b", now: start + 900) == .allow)
    throttle.prune(now: start + 1799)
    #expect(throttle.count == 1)
    throttle.prune(now: start + 1800)
    #expect(throttle.count == 0)
  }

  @Test("memory stays bounded under many keys")
  func capacity() {
    var throttle = LoginThrottle(policy: policy, capacity: 100)
    for index in 0..<1000 {
      throttle.recordFailure("k\(index)", now: start + TimeInterval(index))
    }
    #expect(throttle.count <= 100)
    #expect(throttle.check("k999", now: start + 999) == .allow)
  }
}
