import KPHTTP
import KPRPC
import KPServiceKit

/// The gateway's own settings, beside the mesh service ones (`--listen-address` is the
/// external RPC port, `--metrics-address` the admin port with /metrics and /healthz, and
/// `--certs-dir` holds `gateway.pem`, served on the RPC port, and `gateway-external.pem`,
/// served on the HTTPS port).
enum GatewaySettings {
  /// The mesh service settings with the gateway's defaults: the external RPC port on 7200
  /// (`--listen-address`) and the admin port on 9100 (`--metrics-address`).
  static var mesh: [Setting] {
    MeshService.settings(service: "gateway").map { setting in
      guard setting.name == "metrics-address" else { return setting }
      return Setting(
        "metrics-address", help: "Where GET /metrics and /healthz are served over plain HTTP.",
        valueName: "host:port", default: "127.0.0.1:9100")
    }
  }

  /// Every gateway setting with its default.
  static let all: [Setting] = [
    Setting(
      "https-address", help: "Where the HTTPS REST API listens.", valueName: "host:port",
      default: "127.0.0.1:7100"),
    Setting(
      "https-certificate",
      help: "PEM certificate chain of the HTTPS port; default <certs-dir>/gateway-external.pem.",
      valueName: "path", default: ""),
    Setting(
      "https-private-key",
      help: "PEM private key of the HTTPS port; default <certs-dir>/gateway-external.key.",
      valueName: "path", default: ""),
    Setting(
      "auth-address", help: "kp-auth's endpoints, comma-separated.", valueName: "host:port,...",
      default: "127.0.0.1:7101"),
    Setting(
      "tenants-address", help: "kp-tenants' endpoints, comma-separated.",
      valueName: "host:port,...", default: "127.0.0.1:7102"),
    Setting(
      "knowledge-address", help: "kp-knowledge's endpoints, comma-separated.",
      valueName: "host:port,...", default: "127.0.0.1:7103"),
    Setting(
      "ingest-address", help: "kp-ingest's endpoints, comma-separated.",
      valueName: "host:port,...", default: "127.0.0.1:7104"),
    Setting(
      "upstream-timeout-seconds", help: "How long one call to an internal service may take.",
      valueName: "seconds", default: "10"),
    Setting(
      "tenant-cache-seconds",
      help: "How long a tenant's state and limits are reused (0 asks the registry every time).",
      valueName: "seconds", default: "5"),
    Setting(
      "api-key-cache-seconds", help: "How long an API key's verification is reused.",
      valueName: "seconds", default: "10"),
    Setting(
      "max-upstream-calls",
      help: "Requests calling internal services at once; more queue "
        + "per tenant, served in turn.", valueName: "count", default: "64"),
    Setting(
      "max-queued-per-tenant", help: "Requests one tenant may have queued; more get 429.",
      valueName: "count", default: "256"),
    Setting(
      "http-max-connections", help: "HTTPS connections open at once.", valueName: "count",
      default: "10000"),
    Setting(
      "http-max-header-bytes", help: "The largest request header block (431 above).",
      valueName: "bytes", default: "16384"),
    Setting(
      "http-max-body-bytes", help: "The largest request body (413 above).", valueName: "bytes",
      default: "\(8 << 20)"),
    Setting(
      "http-request-timeout-seconds",
      help: "Time for a whole request to arrive (408 and close after).", valueName: "seconds",
      default: "30"),
    Setting(
      "http-idle-timeout-seconds", help: "An idle keep-alive connection closes after this.",
      valueName: "seconds", default: "60"),
  ]

  /// The HTTPS server's configuration from the settings.
  static func httpConfiguration(
    _ configuration: ServiceConfiguration
  ) throws(ConfigurationError) -> HTTPServerConfiguration {
    var http = HTTPServerConfiguration()
    http.address = try address(configuration, "https-address")
    http.limits.maximumConnections = try configuration.integer(
      "http-max-connections", in: 1...1_000_000)
    http.limits.maximumHeaderSize = try configuration.integer(
      "http-max-header-bytes", in: 1024...(1 << 20))
    http.limits.maximumBodySize = try configuration.integer(
      "http-max-body-bytes", in: 1024...(256 << 20))
    http.limits.requestTimeout = .seconds(
      try configuration.integer("http-request-timeout-seconds", in: 1...3600))
    http.limits.idleTimeout = .seconds(
      try configuration.integer("http-idle-timeout-seconds", in: 1...86_400))
    http.shutdownGracePeriod = .seconds(
      try configuration.integer("shutdown-grace-seconds", in: 0...3600))
    return http
  }

  /// One `host:port`.
  static func address(
    _ configuration: ServiceConfiguration, _ name: String
  ) throws(ConfigurationError) -> SocketAddress {
    let text = try configuration.string(name)
    guard var address = SocketAddress(text), !address.host.contains(":") else {
      throw ConfigurationError(
        code: .invalidValue, message: "\(name) '\(text)' is not of the form host:port")
    }
    if address.host.isEmpty { address.host = "127.0.0.1" }
    return address
  }

  /// A comma-separated list of `host:port`.
  static func addresses(
    _ configuration: ServiceConfiguration, _ name: String
  ) throws(ConfigurationError) -> [SocketAddress] {
    let text = try configuration.string(name)
    var result: [SocketAddress] = []
    for part in text.split(separator: ",") {
      let trimmed = part.trimmingCharacters(in: .whitespaces)
      guard let address = SocketAddress(trimmed), address.port > 0 else {
        throw ConfigurationError(
          code: .invalidValue, message: "\(name) entry '\(trimmed)' is not of the form host:port")
      }
      result.append(address)
    }
    guard !result.isEmpty else {
      throw ConfigurationError(code: .invalidValue, message: "\(name) names no endpoint")
    }
    return result
  }
}
