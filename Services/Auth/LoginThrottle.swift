import Foundation

/// Slows down and then locks sign-ins after failures, per key (an account or a source
/// address): a pure state machine with the clock passed in.
///
/// The first ``Policy/freeFailures`` failures cost nothing. Each further failure makes the next
/// attempt wait twice as long as the one before, from ``Policy/baseDelay`` up to
/// ``Policy/maximumDelay``; at ``Policy/lockAfter`` failures the key is locked for
/// ``Policy/lockDuration``, after which it starts afresh. Failures older than
/// ``Policy/forgetAfter`` are forgotten, and a successful sign-in clears the key.
struct LoginThrottle: Sendable {
  /// When failures slow down and lock a key.
  struct Policy: Sendable {
    /// Failures allowed before any delay.
    var freeFailures: Int
    /// The wait after the first failure beyond the free ones.
    var baseDelay: TimeInterval
    /// The longest wait between attempts.
    var maximumDelay: TimeInterval
    /// Failures that lock the key.
    var lockAfter: Int
    /// How long a lock lasts.
    var lockDuration: TimeInterval
    /// Quiet time after which a key's failures are forgotten.
    var forgetAfter: TimeInterval

    /// Per account: 3 free, 1 s doubling to 30 s, locked for 15 minutes after 10.
    static let account = Policy(
      freeFailures: 3, baseDelay: 1, maximumDelay: 30, lockAfter: 10, lockDuration: 900,
      forgetAfter: 900)

    /// Per source address: 20 free, 1 s doubling to 30 s, locked for 15 minutes after 100.
    static let source = Policy(
      freeFailures: 20, baseDelay: 1, maximumDelay: 30, lockAfter: 100, lockDuration: 900,
      forgetAfter: 900)
  }

  /// Whether an attempt may go ahead.
  enum Decision: Sendable, Equatable {
    /// Evaluate the attempt.
    case allow
    /// Refuse it: the key must wait until then.
    case slowDown(until: Date)
    /// Refuse it: the key is locked until then.
    case locked(until: Date)
  }

  private struct Entry: Sendable {
    var failures = 0
    var lastFailure = Date.distantPast
    var lockedUntil: Date?
  }

  let policy: Policy
  /// The most keys remembered; the stalest are forgotten first beyond it.
  let capacity: Int
  private var entries: [String: Entry] = [:]

  /// Creates a throttle.
  ///
  /// - Parameters:
  ///   - policy: When to slow down and lock.
  ///   - capacity: The most keys remembered. Default: 100,000.
  init(policy: Policy, capacity: Int = 100_000) {
    self.policy = policy
    self.capacity = capacity
  }

  /// How many keys the throttle remembers.
  var count: Int { entries.count }

  /// Whether an attempt for `key` may go ahead now.
  func check(_ key: String, now: Date) -> Decision {
    guard let entry = current(key, now: now) else { return .allow }
    if let until = entry.lockedUntil { return .locked(until: until) }
    let excess = entry.failures - policy.freeFailures
    guard excess > 0 else { return .allow }
    let delay = min(policy.maximumDelay, policy.baseDelay * pow(2, Double(excess - 1)))
    let until = entry.lastFailure.addingTimeInterval(delay)
    return now < until ? .slowDown(until: until) : .allow
  }

  /// Records a failed attempt for `key`.
  mutating func recordFailure(_ key: String, now: Date) {
    var entry = current(key, now: now) ?? Entry()
    entry.failures += 1
    entry.lastFailure = now
    if entry.failures >= policy.lockAfter {
      entry.lockedUntil = now.addingTimeInterval(policy.lockDuration)
    }
    entries[key] = entry
    if entries.count > capacity { prune(now: now) }
  }

  /// Records a successful sign-in: the key's failures are forgotten.
  mutating func recordSuccess(_ key: String) {
    entries[key] = nil
  }

  /// Forgets keys whose lock has passed or whose failures are old, then the stalest keys while
  /// more than ``capacity`` remain.
  mutating func prune(now: Date) {
    entries = entries.filter { current($0.key, now: now) != nil }
    if entries.count > capacity {
      let stalest = entries.sorted { $0.value.lastFailure < $1.value.lastFailure }
      for (key, _) in stalest.prefix(entries.count - capacity) { entries[key] = nil }
    }
  }

  /// The key's entry as of `now`, or `nil` when its lock has passed or its failures are
  /// forgotten.
  private func current(_ key: String, now: Date) -> Entry? {
    guard let entry = entries[key] else { return nil }
    if let until = entry.lockedUntil {
      return now < until ? entry : nil
    }
    return now.timeIntervalSince(entry.lastFailure) < policy.forgetAfter ? entry : nil
  }
}
