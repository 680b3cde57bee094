import Foundation
import KPRPC
import KPTokens
import Synchronization
import Testing

@testable import Gateway

/// The gateway's pure parts: fair queueing, token buckets, trace context and route matching.
@Suite("kp-gateway parts")
struct GatewayUnitTests {
  @Test("a freed slot goes to the waiting tenants in turn, not first come first served")
  func fairQueueing() async throws {
    let scheduler = FairScheduler(maximumInFlight: 1, maximumQueuedPerTenant: 10)
    let order = Recorder()
    let gate = AsyncStream<Void>.makeStream()

    let holder = Task {
      try await scheduler.run(tenant: "hold") { () async throws(GatewayError) in
        for await _ in gate.stream { break }
      }
    }
    while scheduler.load.inFlight == 0 { try await Task.sleep(for: .milliseconds(2)) }

    var tasks: [Task<Void, any Error>] = []
    for (index, tenant) in ["flood", "flood", "flood", "flood", "quiet", "quiet"].enumerated() {
      tasks.append(
        Task {
          try await scheduler.run(tenant: tenant) { () async throws(GatewayError) in
            order.names.withLock { $0.append(tenant) }
          }
        })
      while scheduler.load.queued < index + 1 { try await Task.sleep(for: .milliseconds(2)) }
    }
    gate.continuation.yield()
    try await holder.value
    for task in tasks { try await task.value }
    #expect(order.names.withLock { $0 } == ["flood", "quiet", "flood", "quiet", "flood", "flood"])
  }

  /// The order requests ran in.
  final class Recorder: Sendable {
    let names = Mutex<[String]>([])
  }

  @Test("a tenant's queue is bounded")
  func boundedQueue() async throws {
    let scheduler = FairScheduler(maximumInFlight: 1, maximumQueuedPerTenant: 1)
    let gate = AsyncStream<Void>.makeStream()
    let holder = Task {
      try await scheduler.run(tenant: "a") { () async throws(GatewayError) in
        for await _ in gate.stream { break }
      }
    }
    while scheduler.load.inFlight == 0 { try await Task.sleep(for: .milliseconds(2)) }
    let waiting = Task { try await scheduler.run(tenant: "a") { () async throws(GatewayError) in } }
    while scheduler.load.queued == 0 { try await Task.sleep(for: .milliseconds(2)) }
    do {
      try await scheduler.run(tenant: "a") { () async throws(GatewayError) in }
      Issue.record("a request beyond the queue's bound was admitted")
    } catch {
      #expect(error.code == "RESOURCE_EXHAUSTED")
      #expect(error.status.code == 429)
      #expect(error.retryAfterSeconds == 1)
    }
    gate.continuation.yield()
    try await holder.value
    try await waiting.value
  }

  @Test("token buckets allow the burst, then the rate, per tenant")
  func tokenBuckets() {
    let limiter = RateLimiter()
    let allowed = (0..<10).filter { _ in limiter.take(tenant: "a", rate: 2, burst: 5) == nil }
    #expect(allowed.count == 5)
    #expect((limiter.take(tenant: "a", rate: 2, burst: 5) ?? 0) >= 1)
    #expect(limiter.take(tenant: "b", rate: 2, burst: 5) == nil)
    #expect(limiter.take(tenant: "c", rate: 0, burst: 0) == nil)
  }

  @Test("traceparent is kept when well formed and made otherwise")
  func traceContext() {
    let kept = RequestTrace(
      requestID: "r1", traceparent: "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
      clientAddress: "")
    #expect(kept.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
    for bad in ["", "01-abc", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "x"] {
      let made = RequestTrace(requestID: "r1", traceparent: bad, clientAddress: "")
      #expect(RequestTrace.isWellFormed(made.traceparent))
      #expect(made.traceparent != bad)
    }
  }

  @Test("routes match their templates and decode parameters")
  func routes() {
    let route = Route(.get, "/v1/documents/{id}") { api, _ throws(GatewayError) in
      api.noContent()
    }
    #expect(route.match(["v1", "documents", "d 1"]) == ["id": "d 1"])
    #expect(route.match(["v1", "documents"]) == nil)
    #expect(route.match(["v1", "jobs", "j1"]) == nil)
    let templates = GatewayAPI.routeTable.map { "\($0.method) \($0.template)" }
    #expect(Set(templates).count == templates.count)
  }

  @Test("RPC status codes map to HTTP statuses")
  func statusMapping() {
    let cases: [(String, Int)] = [
      ("INVALID_ARGUMENT", 400), ("UNAUTHENTICATED", 401), ("PERMISSION_DENIED", 403),
      ("NOT_FOUND", 404), ("ALREADY_EXISTS", 409), ("RESOURCE_EXHAUSTED", 429),
      ("UNAVAILABLE", 503), ("DEADLINE_EXCEEDED", 504), ("PAYLOAD_TOO_LARGE", 413),
      ("UNSUPPORTED_MEDIA_TYPE", 415),
    ]
    for (code, status) in cases {
      #expect(GatewayError(code, "m").status.code == status, "\(code)")
    }
    #expect(GatewayError.unprocessable("m").status.code == 422)
  }
}

/// The memory of verified access tokens.
@Suite("kp-gateway verified-token cache")
struct VerifiedTokenCacheTests {
  private static func claims(lifetime: TimeInterval, issued: Date) -> AccessTokenClaims {
    AccessTokenClaims(
      tenantID: "t1", userID: "u1", role: "member", groups: ["eng"], issuedAt: issued,
      lifetime: lifetime)
  }

  @Test("a remembered token answers its claims until it expires, then is forgotten")
  func expiry() {
    let cache = VerifiedTokenCache()
    let issued = Date(timeIntervalSince1970: 1_800_000_000)
    let claims = Self.claims(lifetime: 60, issued: issued)
    #expect(cache.claims(for: "token-a", now: issued) == nil)

    cache.remember("token-a", claims)
    #expect(cache.claims(for: "token-a", now: issued.addingTimeInterval(59)) == claims)
    #expect(cache.claims(for: "token-b", now: issued) == nil)
    #expect(cache.claims(for: "token-a", now: issued.addingTimeInterval(60)) == nil)
    #expect(cache.count == 0)
  }

  @Test("the cache stays within its limit and can be emptied")
  func bounds() {
    let cache = VerifiedTokenCache(limit: 3)
    let issued = Date()
    for index in 0..<3 {
      cache.remember("token-\(index)", Self.claims(lifetime: 600, issued: issued))
    }
    #expect(cache.count == 3)
    cache.remember("token-3", Self.claims(lifetime: 600, issued: issued))
    #expect(cache.count == 1)
    #expect(cache.claims(for: "token-3") != nil)
    #expect(cache.claims(for: "token-0") == nil)

    cache.removeAll()
    #expect(cache.claims(for: "token-3") == nil)
  }
}

/// When a 429 says to retry, and when it does not.
@Suite("kp-gateway Retry-After")
struct RetryAfterTests {
  @Test("a passing overload says when to retry; a full plan quota does not")
  func retryAfter() {
    let busy = GatewayAPI.errorResponse(
      .busy("the tenant's request rate limit is reached", retryAfterSeconds: 3), requestID: "r")
    #expect(busy.status.code == 429 && busy.headers["Retry-After"] == "3")

    let quota = GatewayAPI.errorResponse(
      GatewayError(RPCError(.resourceExhausted, "the plan allows 10 documents (quota)")),
      requestID: "r")
    #expect(quota.status.code == 429 && quota.headers["Retry-After"] == nil)

    let large = GatewayAPI.errorResponse(.tooLarge("send smaller batches"), requestID: "r")
    #expect(large.status.code == 413 && large.headers["Retry-After"] == nil)
  }

  @Test("an upstream's retry-after-seconds trailer becomes Retry-After, and goes back out on RPC")
  func retryAfterTrailer() {
    func upstream(_ value: String) -> GatewayError {
      GatewayError(
        RPCError(
          .resourceExhausted, "too many failed sign-ins",
          trailers: Metadata([(MetadataKey.retryAfterSeconds, value)])))
    }
    let throttled = upstream("42")
    #expect(throttled.retryAfterSeconds == 42)
    #expect(GatewayAPI.errorResponse(throttled, requestID: "r").headers["Retry-After"] == "42")
    #expect(throttled.rpcError.trailers[MetadataKey.retryAfterSeconds] == "42")
    for bad in ["-1", "soon", "86401", ""] {
      #expect(upstream(bad).retryAfterSeconds == nil, "\(bad)")
    }
    #expect(GatewayError(RPCError(.resourceExhausted, "quota")).rpcError.trailers.entries.isEmpty)
  }
}

/// The bearer credential's surrounding blanks.
@Suite("kp-gateway credential trimming")
struct CredentialTrimmingTests {
  @Test("spaces and tabs around the credential go; those inside stay")
  func trimming() {
    #expect(Authenticator.trimmed(" \tabc.def \t") == "abc.def")
    #expect(Authenticator.trimmed("a b") == "a b")
    #expect(Authenticator.trimmed("  \t ").isEmpty)
    #expect(Authenticator.trimmed("kpk_x") == "kpk_x")
    #expect(Authenticator.trimmed(" ünïcødé\t") == "ünïcødé")
  }
}
