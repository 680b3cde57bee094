import Foundation
import KPLogging
import KPProtoRuntime
import KPProtocol
import KPRPC

/// The external RPC port's methods, for SDK clients and the load driver: the knowledge
/// store's search and document methods and the ingest service's batch methods, under their
/// own method names, with `authorization: Bearer <access token or API key>` in metadata.
///
/// Each call is verified and limited as a REST request is; the metadata passed on is built
/// from the verified credential only, never copied from the client.
struct ExternalRPCService: RPCService {
  let api: GatewayAPI

  func register(into table: inout MethodTable) {
    let anyone = CallerPolicy.anyone
    let knowledge = api.upstreams.knowledge
    let ingest = api.upstreams.ingest
    table.unary(Kp_Knowledge_V1_Knowledge.search, callers: anyone) { request, context in
      var request = request
      request.userId = ""
      request.groups = []
      return try await forward(
        Kp_Knowledge_V1_Knowledge.search, knowledge, .search, request, context)
    }
    table.unary(Kp_Knowledge_V1_Knowledge.getDocument, callers: anyone) { request, context in
      try await forward(
        Kp_Knowledge_V1_Knowledge.getDocument, knowledge, .search, request, context)
    }
    table.unary(Kp_Knowledge_V1_Knowledge.listDocuments, callers: anyone) { request, context in
      try await forward(
        Kp_Knowledge_V1_Knowledge.listDocuments, knowledge, .search, request, context)
    }
    table.unary(Kp_Knowledge_V1_Knowledge.stats, callers: anyone) { request, context in
      try await forward(Kp_Knowledge_V1_Knowledge.stats, knowledge, .search, request, context)
    }
    table.unary(Kp_Knowledge_V1_Knowledge.deleteDocuments, callers: anyone) { request, context in
      try await forward(
        Kp_Knowledge_V1_Knowledge.deleteDocuments, knowledge, .ingest, request, context)
    }
    table.unary(Kp_Ingest_V1_Ingest.submitBatch, callers: anyone) { request, context in
      try await forward(Kp_Ingest_V1_Ingest.submitBatch, ingest, .ingest, request, context)
    }
    table.unary(Kp_Ingest_V1_Ingest.getJob, callers: anyone) { request, context in
      try await forward(Kp_Ingest_V1_Ingest.getJob, ingest, .ingest, request, context)
    }
  }

  /// Verifies the call's credential, applies the tenant's limits, and calls upstream with
  /// metadata from the verified caller.
  private func forward<Request, Response>(
    _ method: ProtoMethod<Request, Response>, _ channel: RPCChannel,
    _ scope: VerifiedCaller.Scope, _ request: Request, _ context: ServerContext
  ) async throws(RPCError) -> Response {
    let started = ContinuousClock.now
    let trace = RequestTrace(
      requestID: context.traceID, traceparent: context.metadata[RequestTrace.traceparentKey],
      clientAddress: "")
    var tenantID = ""
    var outcome = "OK"
    defer {
      let elapsed = ContinuousClock.now - started
      let milliseconds =
        Double(elapsed.components.seconds) * 1000
        + Double(elapsed.components.attoseconds) / 1e15
      api.logger.info(
        "rpc request",
        [
          "request_id": trace.requestID, "trace_id": trace.traceID, "method": method.path,
          "code": outcome, "duration_ms": String(format: "%.3f", milliseconds),
          "tenant": tenantID,
        ])
    }
    do throws(GatewayError) {
      let (caller, tenant) = try await api.authenticator.authenticate(
        context.metadata[MetadataKey.authorization], trace: trace)
      tenantID = caller.tenantID
      try caller.require(scope)
      if let tenant,
        let wait = api.limiter.take(
          tenant: tenant.id, rate: tenant.requestsPerSecond, burst: tenant.burst)
      {
        api.metrics.recordRateLimited()
        // As on HTTPS: the wait goes to the caller, here as the retry-after-seconds trailer.
        throw GatewayError.busy(
          "the tenant's request rate limit is reached; retry later", retryAfterSeconds: wait)
      }
      var timeout = api.upstreams.timeout
      if let remaining = context.timeRemaining, remaining < timeout { timeout = remaining }
      let options = trace.options(caller: caller, timeout: timeout)
      return try await api.scheduler.run(tenant: caller.tenantID) {
        () async throws(GatewayError) in
        do throws(RPCError) {
          return try await channel.unary(method, request, options: options)
        } catch {
          throw GatewayError(error)
        }
      }
    } catch {
      outcome = error.rpcError.code.name
      throw error.rpcError
    }
  }
}
