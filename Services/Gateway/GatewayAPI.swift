import Foundation
import KPHTTP
import KPLogging
import KPProtoRuntime
import KPRPC

/// The REST API: routes each request, authenticates it, applies its tenant's rate limit and
/// fair queueing, calls the internal services, and writes one access-log line.
final class GatewayAPI: Sendable {
  let upstreams: Upstreams
  let authenticator: Authenticator
  let tenants: TenantCache
  let limiter: RateLimiter
  let scheduler: FairScheduler
  let metrics: GatewayMetrics
  let logger: Logger
  /// The OpenAPI document, encoded once.
  let openAPI: [UInt8]
  let routes: [Route]

  /// Makes the API over its collaborators.
  init(
    upstreams: Upstreams, tenantCacheLifetime: Duration, apiKeyCacheLifetime: Duration,
    scheduler: FairScheduler, metrics: GatewayMetrics, logger: Logger
  ) {
    self.upstreams = upstreams
    let tenants = TenantCache(
      tenants: upstreams.tenants, lifetime: tenantCacheLifetime, timeout: upstreams.timeout)
    self.tenants = tenants
    authenticator = Authenticator(
      upstreams: upstreams, tenants: tenants, apiKeyLifetime: apiKeyCacheLifetime,
      logger: logger)
    limiter = RateLimiter()
    self.scheduler = scheduler
    self.metrics = metrics
    self.logger = logger
    routes = Self.routeTable
    openAPI = OpenAPIDocument.encoded
  }

  /// Answers one request; never throws, every failure becomes an error body.
  func handle(_ request: HTTPRequest) async -> HTTPResponse {
    let started = ContinuousClock.now
    let trace = RequestTrace(
      requestID: request.requestID, traceparent: request.headers["traceparent"],
      clientAddress: request.remoteAddress.map { $0.host } ?? "")
    var template = "unmatched"
    var tenantID = ""
    var response: HTTPResponse
    do throws(GatewayError) {
      let (route, parameters) = try match(request)
      template = route.template
      var caller: VerifiedCaller?
      var limits: TenantCache.Entry?
      if route.authenticated {
        (caller, limits) = try await authenticator.authenticate(
          request.headers["authorization"], trace: trace)
        tenantID = caller?.tenantID ?? ""
      }
      if let limits,
        let wait = limiter.take(
          tenant: limits.id, rate: limits.requestsPerSecond, burst: limits.burst)
      {
        metrics.recordRateLimited()
        throw GatewayError.busy(
          "the tenant's request rate limit is reached; retry later", retryAfterSeconds: wait)
      }
      let routed = RouteRequest(
        http: request, parameters: parameters, trace: trace, caller: caller)
      let queueKey = tenantID.isEmpty ? (caller == nil ? "-anonymous" : "-platform") : tenantID
      response = try await scheduler.run(tenant: queueKey) { () async throws(GatewayError) in
        try await route.handler(self, routed)
      }
    } catch {
      response = Self.errorResponse(error, requestID: trace.requestID)
      if error.status.code >= 500 {
        logger.warning(
          "request failed",
          ["request_id": trace.requestID, "route": template, "code": error.code])
      }
    }
    response.headers["X-Request-Id"] = trace.requestID

    let elapsed = ContinuousClock.now - started
    let seconds =
      Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    metrics.recordRequest(
      route: template, method: request.method.rawValue, status: response.status.code,
      seconds: seconds)
    logger.info(
      "request",
      [
        "request_id": trace.requestID, "trace_id": trace.traceID,
        "method": request.method.rawValue, "route": template,
        "status": "\(response.status.code)", "bytes": "\(response.body.count)",
        "duration_ms": String(format: "%.3f", seconds * 1000), "tenant": tenantID,
      ])
    return response
  }

  /// The route template refused requests are counted under: the server answered them before
  /// any route was matched.
  static let refusedRoute = "(refused)"

  /// Writes the access-log line and counts a request the HTTPS server refused itself (over a
  /// limit, too slow, malformed), so that every request leaves one line.
  func recordRefusal(_ error: HTTPError, requestID: String) {
    metrics.recordRequest(
      route: Self.refusedRoute, method: "-", status: error.status.code, seconds: 0)
    logger.info(
      "request",
      [
        "request_id": requestID, "method": "-", "route": Self.refusedRoute,
        "status": "\(error.status.code)", "code": error.code.rawValue, "bytes": "0",
        "tenant": "",
      ])
  }

  /// The route for a request, or 404 / 405.
  private func match(_ request: HTTPRequest) throws(GatewayError) -> (Route, [String: String]) {
    var pathMatched = false
    for route in routes {
      guard let parameters = route.match(request.pathSegments) else { continue }
      pathMatched = true
      if route.method == request.method
        || (request.method == .head && route.method == .get)
      {
        return (route, parameters)
      }
    }
    if pathMatched {
      throw GatewayError("METHOD_NOT_ALLOWED", "the method \(request.method) is not allowed here")
    }
    throw .notFound("no route for \(request.method) \(request.path)")
  }

  /// The error body `{"error": {"code", "message", "request_id"}}` with its status.
  static func errorResponse(_ error: GatewayError, requestID: String) -> HTTPResponse {
    let object: [String: Any] = [
      "error": ["code": error.code, "message": error.message, "request_id": requestID]
    ]
    var response =
      (try? HTTPResponse.json(object: object, status: error.status))
      ?? HTTPResponse(status: error.status)
    if let wait = error.retryAfterSeconds {
      response.headers["Retry-After"] = "\(wait)"
    }
    return response
  }

  // MARK: Helpers for handlers

  /// A JSON response.
  func json(_ object: Any, status: HTTPStatus = .ok) throws(GatewayError) -> HTTPResponse {
    do {
      return try HTTPResponse.json(object: object, status: status)
    } catch {
      throw GatewayError("INTERNAL", "the response could not be encoded")
    }
  }

  /// An empty 204 response.
  func noContent() -> HTTPResponse { HTTPResponse(status: .noContent) }

  /// Calls an upstream unary method with the request's trace and verified caller.
  func call<Request, Response>(
    _ channel: RPCChannel, _ method: ProtoMethod<Request, Response>, _ message: Request,
    for request: RouteRequest, forwardCredential: Bool = false
  ) async throws(GatewayError) -> Response {
    do {
      return try await channel.unary(
        method, message,
        options: request.trace.options(
          caller: request.caller, forwardCredential: forwardCredential,
          timeout: upstreams.timeout))
    } catch {
      throw GatewayError(error)
    }
  }
}
