import KPLogging
import KPRPC
import KPTLS

/// The gateway's channels to the internal services, over mutual TLS as the gateway identity.
struct Upstreams: Sendable {
  /// kp-auth.
  let auth: RPCChannel
  /// kp-tenants.
  let tenants: RPCChannel
  /// kp-knowledge.
  let knowledge: RPCChannel
  /// kp-ingest.
  let ingest: RPCChannel
  /// How long one upstream call may take.
  let timeout: Duration

  /// Every channel with the service's name, for readiness.
  var all: [(name: String, channel: RPCChannel)] {
    [("auth", auth), ("tenants", tenants), ("knowledge", knowledge), ("ingest", ingest)]
  }

  /// Makes the channels.
  ///
  /// - Parameters:
  ///   - addresses: Each service's endpoints, by service name.
  ///   - tls: The gateway's mesh client context.
  ///   - identity: The identity URI expected of a service.
  ///   - timeout: How long one call may take.
  ///   - metrics: Where every call's outcome is recorded.
  static func make(
    addresses: [String: [SocketAddress]], tls: TLSContext, identity: (String) -> String,
    timeout: Duration, metrics: GatewayMetrics, logger: Logger
  ) -> Upstreams {
    func channel(_ service: String) -> RPCChannel {
      var configuration = RPCClientConfiguration()
      configuration.connectionsPerEndpoint = 2
      configuration.defaultTimeout = timeout
      configuration.connectTimeout = .seconds(3)
      return RPCChannel(
        target: RPCTarget(
          endpoints: addresses[service] ?? [], expectedIdentity: identity(service)),
        tls: tls, configuration: configuration,
        interceptors: [UpstreamMetricsInterceptor(service: service, metrics: metrics)],
        logger: logger)
    }
    return Upstreams(
      auth: channel("auth"), tenants: channel("tenants"), knowledge: channel("knowledge"),
      ingest: channel("ingest"), timeout: timeout)
  }

  /// Closes every channel.
  func close() {
    for (_, channel) in all { channel.close() }
  }
}

/// Records each upstream call in the gateway's metrics.
struct UpstreamMetricsInterceptor: ClientInterceptor {
  let service: String
  let metrics: GatewayMetrics

  func didFinish(method: String, error: RPCError?, duration: Duration) {
    let seconds =
      Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    metrics.recordUpstream(
      service: service, method: method, code: error?.code.name ?? "OK", seconds: seconds)
  }
}
