import Synchronization

/// Bounds the requests that call upstream at once and, when all slots are busy, serves the
/// waiting tenants in turn rather than first come first served.
///
/// Each tenant has a queue of its own; a freed slot goes to the next tenant in a round-robin
/// order, so a tenant that floods waits behind its own requests while the others' go through.
/// A tenant's queue is bounded: past it, requests are refused at once (429).
final class FairScheduler: Sendable {
  private struct State {
    var inFlight = 0
    var queues: [String: [CheckedContinuation<Void, Never>]] = [:]
    /// Tenants with waiting requests, in the order they are served.
    var ring: [String] = []
    var queued = 0
    var rejected = 0
  }

  /// Requests calling upstream at once.
  let maximumInFlight: Int
  /// Requests one tenant may have waiting.
  let maximumQueuedPerTenant: Int

  private let state = Mutex(State())

  /// Makes a scheduler.
  init(maximumInFlight: Int, maximumQueuedPerTenant: Int) {
    self.maximumInFlight = max(1, maximumInFlight)
    self.maximumQueuedPerTenant = max(1, maximumQueuedPerTenant)
  }

  /// Requests waiting and running now, and requests refused so far because a queue was full.
  var load: (queued: Int, inFlight: Int, rejected: Int) {
    state.withLock { ($0.queued, $0.inFlight, $0.rejected) }
  }

  /// Runs `body` once a slot is free, in the tenant's turn.
  ///
  /// - Throws: ``GatewayError`` 429 when the tenant's queue is full, or what `body` throws.
  func run<Value>(
    tenant: String, _ body: () async throws(GatewayError) -> Value
  ) async throws(GatewayError) -> Value {
    try await acquire(tenant)
    defer { release() }
    return try await body()
  }

  private func acquire(_ tenant: String) async throws(GatewayError) {
    enum Admission { case now, wait, refused }
    let admission = state.withLock { state -> Admission in
      if state.inFlight < maximumInFlight && state.queued == 0 {
        state.inFlight += 1
        return .now
      }
      guard (state.queues[tenant]?.count ?? 0) < maximumQueuedPerTenant else {
        state.rejected += 1
        return .refused
      }
      return .wait
    }
    switch admission {
    case .now: return
    case .refused:
      throw GatewayError.busy(
        "too many requests of this tenant are waiting; retry shortly", retryAfterSeconds: 1)
    case .wait:
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let resumeNow = state.withLock { state -> Bool in
          if state.inFlight < maximumInFlight && state.queued == 0 {
            state.inFlight += 1
            return true
          }
          if state.queues[tenant, default: []].isEmpty { state.ring.append(tenant) }
          state.queues[tenant, default: []].append(continuation)
          state.queued += 1
          return false
        }
        if resumeNow { continuation.resume() }
      }
    }
  }

  /// Frees a slot: hands it to the next waiting tenant's oldest request, if any.
  private func release() {
    let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
      guard !state.ring.isEmpty else {
        state.inFlight -= 1
        return nil
      }
      let tenant = state.ring.removeFirst()
      var queue = state.queues[tenant] ?? []
      let continuation = queue.removeFirst()
      state.queued -= 1
      if queue.isEmpty {
        state.queues[tenant] = nil
      } else {
        state.queues[tenant] = queue
        state.ring.append(tenant)
      }
      return continuation
    }
    next?.resume()
  }
}
