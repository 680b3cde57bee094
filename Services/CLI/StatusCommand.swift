import KPProtocol
import KPRPC
import KPServiceKit

/// `kp status`: asks every mesh service for its health over mutual TLS, as a person would
/// check that the local mesh is up.
struct StatusCommand {
  /// One service's answer.
  struct Row {
    var service: String
    var address: String
    var status: String
    var milliseconds: Double?
    var healthy: Bool
  }

  let configuration: ServiceConfiguration

  /// The services asked, in the order `scripts/run` starts them.
  static let services = ["tenants", "auth", "knowledge", "ingest", "gateway"]

  /// The services to ask and where: `--addresses name=host:port,...`, or else every service
  /// at its default port on `--host`.
  func targets() throws -> [(service: String, address: SocketAddress)] {
    let host = try configuration.string("host")
    guard let list = configuration.value("addresses"), !list.isEmpty else {
      return Self.services.map {
        ($0, SocketAddress(host: host, port: MeshService.defaultPorts[$0] ?? 0))
      }
    }
    return try list.split(separator: ",").map { entry in
      let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
      guard parts.count == 2, let address = SocketAddress(parts[1]) else {
        throw ConfigurationError(
          code: .invalidValue,
          message: "addresses entry '\(entry)' is not of the form service=host:port")
      }
      return (parts[0], address)
    }
  }

  /// Asks each service; returns one row per service.
  func run() async throws -> [Row] {
    let targets = try targets()
    let tls = try MeshService.tlsContext(
      service: "cli", configuration: configuration, server: false)
    var rows: [Row] = []
    for (service, endpoint) in targets {
      let host = endpoint.host
      let port = endpoint.port
      let channel = RPCChannel(
        target: RPCTarget(
          endpoints: [endpoint],
          expectedIdentity: MeshService.identity(of: service)),
        tls: tls, configuration: Self.clientConfiguration)
      let start = MonotonicInstant.now()
      do {
        let answer = try await channel.unary(
          Kp_Health_V1_Health.check, Kp_Health_V1_HealthCheckRequest(),
          options: CallOptions(timeout: .seconds(3)))
        let elapsed = start.duration(to: .now())
        rows.append(
          Row(
            service: service, address: "\(host):\(port)", status: "\(answer.status)",
            milliseconds: Double(elapsed.nanosecondsClamped) / 1e6,
            healthy: answer.status == .serving))
      } catch {
        rows.append(
          Row(
            service: service, address: "\(host):\(port)", status: error.message,
            milliseconds: nil, healthy: false))
      }
      channel.close()
    }
    return rows
  }

  /// The rows as a table for a person.
  static func table(_ rows: [Row]) -> String {
    let header = ["SERVICE", "ADDRESS", "LATENCY", "STATUS"]
    let cells = rows.map { row in
      [
        "kp-\(row.service)", row.address,
        row.milliseconds.map { String(format: "%.1f ms", $0) } ?? "-", row.status,
      ]
    }
    let widths = (0..<header.count).map { column in
      ([header] + cells).map { $0[column].count }.max() ?? 0
    }
    return ([header] + cells).map { line in
      line.enumerated().map { column, text in
        column == line.count - 1
          ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
      }.joined(separator: "  ")
    }.joined(separator: "\n")
  }

  private static var clientConfiguration: RPCClientConfiguration {
    var configuration = RPCClientConfiguration()
    configuration.connectTimeout = .seconds(2)
    configuration.retry.maximumAttempts = 1
    configuration.keepalive = .disabled
    return configuration
  }
}
