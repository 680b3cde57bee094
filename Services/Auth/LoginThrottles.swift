import Foundation
import Synchronization

/// The two sign-in throttles kp-auth keeps, per account and per source address, behind one
/// lock. They live in memory: each replica throttles what it sees.
///
/// The source is the end client's address as the gateway reports it; without one (a call
/// from another service) only the account is throttled, so that every client behind one
/// caller does not share a single budget.
final class LoginThrottles: Sendable {
  private let state: Mutex<(account: LoginThrottle, source: LoginThrottle)>

  /// Creates the throttles.
  init(account: LoginThrottle.Policy = .account, source: LoginThrottle.Policy = .source) {
    state = Mutex((LoginThrottle(policy: account), LoginThrottle(policy: source)))
  }

  /// Refuses an attempt when either throttle says so, naming how long to wait.
  func check(account: String, source: String?, now: Date) throws(AuthError) {
    let decisions = state.withLock { throttles in
      (
        throttles.account.check(account, now: now),
        source.map { throttles.source.check($0, now: now) } ?? .allow
      )
    }
    for decision in [decisions.0, decisions.1] {
      switch decision {
      case .allow:
        continue
      case .slowDown(let until), .locked(let until):
        let seconds = max(1, Int(until.timeIntervalSince(now).rounded(.up)))
        throw AuthError(
          .throttled,
          "too many failed sign-ins for this account or address; try again in \(seconds) "
            + (seconds == 1 ? "second" : "seconds"), retryAfterSeconds: seconds)
      }
    }
  }

  /// Records a failed attempt against both keys.
  func failed(account: String, source: String?, now: Date) {
    state.withLock {
      $0.account.recordFailure(account, now: now)
      if let source { $0.source.recordFailure(source, now: now) }
    }
  }

  /// Records a successful sign-in: the account's failures are forgotten.
  func succeeded(account: String) {
    state.withLock { $0.account.recordSuccess(account) }
  }
}
