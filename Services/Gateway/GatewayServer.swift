import Foundation
import KPHTTP
import KPLogging
import KPRPC
import KPServiceKit
import KPTLS

/// The running gateway: the HTTPS REST API, the external RPC port, and the admin port with
/// /metrics and /healthz.
final class GatewayServer: Sendable {
  let api: GatewayAPI
  let http: HTTPServer
  let rpc: RPCServer
  let admin: MetricsEndpoint
  let upstreams: Upstreams

  private init(
    api: GatewayAPI, http: HTTPServer, rpc: RPCServer, admin: MetricsEndpoint,
    upstreams: Upstreams
  ) {
    self.api = api
    self.http = http
    self.rpc = rpc
    self.admin = admin
    self.upstreams = upstreams
  }

  /// Reads the settings and starts listening on every port.
  ///
  /// - Throws: ``ConfigurationError`` for a bad setting or a missing certificate; other errors
  ///   when a port cannot be listened on.
  static func start(configuration: ServiceConfiguration, logger: Logger) throws -> GatewayServer {
    let http = try GatewaySettings.httpConfiguration(configuration)
    let rpcAddress = try GatewaySettings.address(configuration, "listen-address")
    let adminAddress = try GatewaySettings.address(configuration, "metrics-address")
    var addresses: [String: [SocketAddress]] = [:]
    for service in ["auth", "tenants", "knowledge", "ingest"] {
      addresses[service] = try GatewaySettings.addresses(configuration, "\(service)-address")
    }
    let timeout = Duration.seconds(
      try configuration.integer("upstream-timeout-seconds", in: 1...600))
    let tenantCache = Duration.seconds(
      try configuration.integer("tenant-cache-seconds", in: 0...3600))
    let keyCache = Duration.seconds(
      try configuration.integer("api-key-cache-seconds", in: 0...3600))
    let scheduler = FairScheduler(
      maximumInFlight: try configuration.integer("max-upstream-calls", in: 1...100_000),
      maximumQueuedPerTenant: try configuration.integer(
        "max-queued-per-tenant", in: 1...1_000_000))

    let directory = try configuration.string("certs-dir")
    let certificate = try configuration.string("https-certificate")
    let key = try configuration.string("https-private-key")
    var httpsTLS = TLSConfiguration.externalServer(
      certificateChain: certificate.isEmpty ? "\(directory)/gateway-external.pem" : certificate,
      privateKey: key.isEmpty ? "\(directory)/gateway-external.key" : key)
    httpsTLS.alpnProtocols = ["http/1.1"]
    for path in [httpsTLS.certificateChainPath, httpsTLS.privateKeyPath].compactMap({ $0 })
    where !FileManager.default.fileExists(atPath: path) {
      throw ConfigurationError(
        code: .invalidValue,
        message: "certificate file \(path) is missing; run scripts/make-dev-certs or set "
          + "--https-certificate and --https-private-key")
    }
    let rpcTLS = TLSConfiguration.externalServer(
      certificateChain: "\(directory)/gateway.pem", privateKey: "\(directory)/gateway.key")
    let meshTLS = try MeshService.tlsContext(
      service: "gateway", configuration: configuration, server: false)

    let metrics = GatewayMetrics()
    let upstreams = Upstreams.make(
      addresses: addresses, tls: meshTLS, identity: MeshService.identity(of:), timeout: timeout,
      metrics: metrics, logger: logger)
    let api = GatewayAPI(
      upstreams: upstreams, tenantCacheLifetime: tenantCache, apiKeyCacheLifetime: keyCache,
      scheduler: scheduler, metrics: metrics, logger: logger)

    var rpcConfiguration = RPCServerConfiguration()
    rpcConfiguration.address = rpcAddress
    rpcConfiguration.maximumConnections = try configuration.integer(
      "max-connections", in: 1...1_000_000)
    rpcConfiguration.limits.maximumFrameSize = try configuration.integer(
      "max-frame-bytes", in: 1024...(64 << 20))
    rpcConfiguration.limits.maximumConcurrentCalls = try configuration.integer(
      "max-concurrent-calls", in: 1...100_000)
    rpcConfiguration.limits.idleTimeout = .seconds(
      try configuration.integer("idle-timeout-seconds", in: 1...86_400))
    rpcConfiguration.limits.handshakeTimeout = .seconds(
      try configuration.integer("handshake-timeout-seconds", in: 1...600))
    rpcConfiguration.shutdownGracePeriod = http.shutdownGracePeriod
    EventLoopGroup.shared.busyPoll = try MeshService.busyPoll(configuration)
    let rpc = RPCServer(
      configuration: rpcConfiguration, tls: try TLSContext(configuration: rpcTLS),
      services: [ExternalRPCService(api: api)], logger: logger)

    let httpServer = HTTPServer(
      configuration: http, tls: try TLSContext(configuration: httpsTLS), logger: logger,
      onRefusal: { error, requestID in api.recordRefusal(error, requestID: requestID) },
      handler: { request in await api.handle(request) })
    try httpServer.start()
    try rpc.start()
    let admin = try MetricsEndpoint(
      host: adminAddress.host, port: adminAddress.port, logger: logger
    ) { [rpc, httpServer, metrics, scheduler] in
      let load = scheduler.load
      return metrics.prometheusText(
        openConnections: httpServer.connectionCount, queued: load.queued,
        inFlight: load.inFlight, queueRejected: load.rejected) + rpc.metrics.prometheusText()
    }
    return GatewayServer(
      api: api, http: httpServer, rpc: rpc, admin: admin, upstreams: upstreams)
  }

  /// Stops accepting, lets requests in progress finish for up to `grace`, then closes.
  func shutdown(grace: Duration) async {
    async let httpDone: Void = http.shutdown(grace: grace)
    async let rpcDone: Void = rpc.shutdown(grace: grace)
    _ = await (httpDone, rpcDone)
    admin.stop()
    upstreams.close()
  }
}
