import Foundation
public import KPLogging
public import KPRPC
public import KPTLS

/// Starts a mesh service the same way in every executable: mutual TLS from the certificate
/// directory, an RPC server with health and metrics, a Prometheus endpoint, and a graceful
/// drain on SIGTERM or SIGINT.
public enum MeshService {
  /// Where each service's RPC server listens by default, on loopback. The gateway's is its
  /// external RPC port; its HTTPS API listens on 7100.
  public static let defaultPorts: [String: Int] = [
    "gateway": 7200, "auth": 7101, "tenants": 7102, "knowledge": 7103, "ingest": 7104,
  ]

  /// The settings every mesh service takes, with their defaults.
  public static func settings(service: String) -> [Setting] {
    let port = defaultPorts[service] ?? 7199
    let limits = ConnectionLimits()
    return [
      Setting(
        "listen-address", help: "Where the RPC server listens.", valueName: "host:port",
        default: "127.0.0.1:\(port)"),
      Setting(
        "metrics-address", help: "Where GET /metrics and /healthz are served over plain HTTP.",
        valueName: "host:port", default: "127.0.0.1:\(port + 2000)"),
      Setting(
        "certs-dir",
        help: "Directory with ca.pem and this service's <name>.pem and <name>.key.",
        valueName: "path", default: ".kp/certs"),
      Setting(
        "max-connections", help: "Connections accepted at once.", valueName: "count",
        default: "10000"),
      Setting(
        "max-frame-bytes", help: "The largest frame accepted.", valueName: "bytes",
        default: "\(limits.maximumFrameSize)"),
      Setting(
        "max-concurrent-calls", help: "Calls one connection may have open at once.",
        valueName: "count", default: "\(limits.maximumConcurrentCalls)"),
      Setting(
        "idle-timeout-seconds", help: "A connection with no call for this long is closed.",
        valueName: "seconds", default: "300"),
      Setting(
        "handshake-timeout-seconds", help: "Time allowed for the TLS handshake and settings.",
        valueName: "seconds", default: "10"),
      Setting(
        "shutdown-grace-seconds", help: "How long a drain lets in-flight calls finish.",
        valueName: "seconds", default: "10"),
      Setting(
        "busy-poll-microseconds",
        help: "How long each event loop polls after work (a call, or a keepalive ping) before "
          + "it sleeps, 0 to 10000 (0: never); spends processor time to answer the next call "
          + "sooner.",
        valueName: "microseconds", default: "0"),
    ]
  }

  /// The whole `main` of a mesh service: parses the command line (answering `--help` and
  /// `--version`), serves until a shutdown signal, drains, and returns the exit status.
  ///
  /// - Parameters:
  ///   - service: The service's name, such as `knowledge`: its identity, certificate file names
  ///     and default ports follow from it.
  ///   - summary: One line saying what the service does, for `--help`.
  ///   - services: Makes the RPC services to offer from the parsed configuration.
  public static func main(
    service: String,
    summary: String,
    services: (ServiceConfiguration, Logger) throws -> [any RPCService] = { _, _ in [] }
  ) async -> Int32 {
    let command = ServiceCommand(
      name: "kp-\(service)", summary: summary, settings: settings(service: service))
    let configuration = command.parseOrExit()
    let logger = configuration.makeLogger(label: command.name)
    if let status = checkSettings(service: service, configuration: configuration, logger: logger) {
      return status
    }
    do {
      let offered = try services(configuration, logger)
      return await run(
        service: service, configuration: configuration, services: offered, logger: logger)
    } catch {
      logger.error("start-up failed", ["error": "\(error)"])
      return 1
    }
  }

  /// Checks every mesh setting and reads the certificates, for an executable to call before
  /// it builds its service, so that a bad setting stops start-up with nothing written or
  /// started.
  ///
  /// - Returns: nil when all is well; otherwise the exit status, after logging why: 2 for an
  ///   invalid setting or a missing certificate, 1 for a certificate that cannot be used.
  public static func checkSettings(
    service: String, configuration: ServiceConfiguration, logger: Logger
  ) -> Int32? {
    do {
      _ = try address(configuration, "metrics-address")
      _ = try serverConfiguration(configuration)
      _ = try busyPoll(configuration)
      _ = try tlsContext(service: service, configuration: configuration, server: true)
      return nil
    } catch let error as ConfigurationError {
      logger.error("invalid configuration", ["error": error.message])
      return ServiceCommand.usageExitStatus
    } catch {
      logger.error("start-up failed", ["error": "\(error)"])
      return 1
    }
  }

  /// Serves `services` as the mesh identity `service` until a shutdown signal, then drains.
  ///
  /// - Returns: The process exit status: 0 after a clean drain, 2 for an invalid setting, 1 when
  ///   start-up failed otherwise (a port in use, an unreadable certificate).
  public static func run(
    service: String,
    configuration: ServiceConfiguration,
    services: [any RPCService],
    logger: Logger
  ) async -> Int32 {
    TLSRuntime.ignoreSIGPIPE()
    let server: RPCServer
    let metrics: MetricsEndpoint
    do {
      // Every setting is checked before anything listens: a bad one is a usage error (exit 2).
      let metricsAddress: SocketAddress
      do {
        metricsAddress = try address(configuration, "metrics-address")
        server = try makeServer(
          service: service, configuration: configuration, services: services, logger: logger)
      } catch let error as ConfigurationError {
        logger.error("invalid configuration", ["error": error.message])
        return ServiceCommand.usageExitStatus
      }
      try server.start()
      metrics = try MetricsEndpoint(
        host: metricsAddress.host, port: metricsAddress.port, logger: logger
      ) { [server] in server.metrics.prometheusText() }
    } catch {
      logger.error("start-up failed", ["error": "\(error)"])
      return 1
    }

    logger.notice(
      "serving",
      [
        "identity": identity(of: service), "rpc_port": "\(server.port)",
        "metrics_port": "\(metrics.port)", "version": KPVersion.current,
      ])

    let stopped = AsyncStream<Int32>.makeStream()
    let signals = ShutdownSignalHandler.install { signal in
      stopped.continuation.yield(signal)
    }
    for await signal in stopped.stream {
      logger.notice("draining", ["signal": "\(signal)"])
      break
    }
    let grace = (try? configuration.integer("shutdown-grace-seconds", in: 0...3600)) ?? 10
    await server.shutdown(grace: .seconds(grace))
    metrics.stop()
    signals.cancel()
    logger.notice("stopped", [:])
    return 0
  }

  /// The identity URI of a service.
  public static func identity(of service: String) -> String {
    "spiffe://knowledgeplane/svc/\(service)"
  }

  /// A TLS context for a mesh client or server from the certificate directory.
  public static func tlsContext(
    service: String, configuration: ServiceConfiguration, server: Bool
  ) throws -> TLSContext {
    let directory = try configuration.string("certs-dir")
    let chain = "\(directory)/\(service).pem"
    let key = "\(directory)/\(service).key"
    let roots = "\(directory)/ca.pem"
    for path in [chain, key, roots] where !FileManager.default.fileExists(atPath: path) {
      throw ConfigurationError(
        code: .invalidValue,
        message: "certificate file \(path) is missing; run scripts/make-dev-certs or set "
          + "--certs-dir")
    }
    return try TLSContext(
      configuration: server
        ? .meshServer(certificateChain: chain, privateKey: key, trustRoots: roots)
        : .meshClient(certificateChain: chain, privateKey: key, trustRoots: roots))
  }

  private static func makeServer(
    service: String, configuration: ServiceConfiguration, services: [any RPCService],
    logger: Logger
  ) throws -> RPCServer {
    let server = try serverConfiguration(configuration)
    EventLoopGroup.shared.busyPoll = try busyPoll(configuration)
    return RPCServer(
      configuration: server,
      tls: try tlsContext(service: service, configuration: configuration, server: true),
      services: services, logger: logger)
  }

  /// `--busy-poll-microseconds`, checked: how long the event loops poll after work.
  public static func busyPoll(
    _ configuration: ServiceConfiguration
  ) throws(ConfigurationError) -> Duration {
    .microseconds(try configuration.integer("busy-poll-microseconds", in: 0...10_000))
  }

  /// The RPC server's settings, each checked.
  private static func serverConfiguration(
    _ configuration: ServiceConfiguration
  ) throws(ConfigurationError) -> RPCServerConfiguration {
    var server = RPCServerConfiguration()
    server.address = try address(configuration, "listen-address")
    server.maximumConnections = try configuration.integer("max-connections", in: 1...1_000_000)
    server.limits.maximumFrameSize = try configuration.integer(
      "max-frame-bytes", in: 1024...(64 << 20))
    server.limits.maximumConcurrentCalls = try configuration.integer(
      "max-concurrent-calls", in: 1...100_000)
    server.limits.idleTimeout = .seconds(
      try configuration.integer("idle-timeout-seconds", in: 1...86_400))
    server.limits.handshakeTimeout = .seconds(
      try configuration.integer("handshake-timeout-seconds", in: 1...600))
    server.shutdownGracePeriod = .seconds(
      try configuration.integer("shutdown-grace-seconds", in: 0...3600))
    return server
  }

  private static func address(
    _ configuration: ServiceConfiguration, _ name: String
  ) throws(ConfigurationError) -> SocketAddress {
    let text = try configuration.string(name)
    guard var address = SocketAddress(text), !address.host.contains(":") else {
      throw ConfigurationError(
        code: .invalidValue,
        message:
          "\(name) '\(text)' (from \(configuration.source(of: name).map { "\($0)" } ?? "default"))"
          + " is not of the form host:port with an IPv4 address or host name")
    }
    if address.host.isEmpty { address.host = "127.0.0.1" }
    return address
  }
}
