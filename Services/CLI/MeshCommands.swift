import Foundation
import KPServiceKit

/// `kp up`, `kp down` and `kp status`: the local mesh on one machine.
enum MeshCommands {
  static let all: [Subcommand] = [up, down, status]

  private static let meshSettings: [Setting] = [
    Setting(
      "run-dir", help: "Where pid files and service logs are kept.", valueName: "path",
      default: ".kp/run"),
    Setting(
      "secrets-dir",
      help: "Where the platform administrator's password and auth's key-encryption key are "
        + "kept (mode 0700).", valueName: "path", default: ".kp/secrets"),
    Setting(
      "certs-dir", help: "The development CA and service certificates.",
      valueName: "path", default: ".kp/certs"),
    Setting(
      "bin-dir", help: "Where the kp-* executables are (default: next to kp).",
      valueName: "path", default: ""),
  ]

  static func mesh(_ configuration: ServiceConfiguration) throws -> LocalMesh {
    var bin = configuration.value("bin-dir") ?? ""
    if bin.isEmpty {
      let own =
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        ?? CommandLine.arguments[0]
      bin = URL(fileURLWithPath: own).deletingLastPathComponent().path
    }
    let seconds = (try? configuration.integer("start-timeout", in: 1...600)) ?? 60
    return LocalMesh(
      binDirectory: bin, runDirectory: configuration.value("run-dir") ?? ".kp/run",
      secretsDirectory: configuration.value("secrets-dir") ?? ".kp/secrets",
      certsDirectory: configuration.value("certs-dir") ?? ".kp/certs",
      databaseURL: configuration.value("database-url").flatMap { $0.isEmpty ? nil : $0 }
        ?? defaultDatabaseURL,
      startTimeout: .seconds(seconds))
  }

  /// The development cluster's address as `scripts/postgres env` gives it: loopback, on
  /// `KP_PG_PORT` (default 55432). `KP_DATABASE_URL`, the setting's own variable, wins over it.
  static var defaultDatabaseURL: String {
    let port = ProcessInfo.processInfo.environment["KP_PG_PORT"].flatMap { Int($0) } ?? 55432
    return "postgresql://postgres@127.0.0.1:\(port)/postgres"
  }

  /// The gateway's HTTPS API port as `kp up` starts it (kp-gateway's `--https-address`).
  static let gatewayHTTPSPort = 7100

  static let up = Subcommand(
    words: ["up"],
    summary: "Start the local mesh (kp-tenants, kp-auth, kp-knowledge, kp-ingest, kp-gateway) "
      + "as background processes over mutual TLS; services already running are reused.",
    settings: meshSettings + [
      Setting(
        "database-url",
        help: "The PostgreSQL cluster the services use (default: the development cluster, on "
          + "port KP_PG_PORT or 55432, as 'scripts/postgres env' says).",
        valueName: "url", default: defaultDatabaseURL),
      Setting(
        "start-timeout", help: "Seconds each service may take to start.",
        valueName: "seconds", default: "60"),
    ]
  ) { configuration in
    let mesh = try mesh(configuration)
    try await mesh.up { started in
      let how = started.reused ? "already running" : "started"
      print("kp-\(started.service): \(how) (pid \(started.pid))")
    }
    let rpcPort = MeshService.defaultPorts["gateway"] ?? 7200
    print("gateway: https://127.0.0.1:\(gatewayHTTPSPort) (HTTPS API, for kp and curl)")
    print("gateway RPC: 127.0.0.1:\(rpcPort) (SDK clients and kp-load)")
    print(
      "platform administrator: \(LocalMesh.adminEmail), password in \(mesh.adminPasswordFile)")
    print("stop it with: kp down")
    return 0
  }

  static let down = Subcommand(
    words: ["down"], summary: "Stop the local mesh's services (each drains gracefully).",
    settings: meshSettings
  ) { configuration in
    let stopped = try await mesh(configuration).down()
    print(
      stopped.isEmpty
        ? "no service was running" : "stopped " + stopped.map { "kp-" + $0 }.joined(separator: ", ")
    )
    return 0
  }

  static let status = Subcommand(
    words: ["status"],
    summary: "Ask every service of the local mesh for its health over mutual TLS (exit 0 when "
      + "all serve, 1 otherwise).",
    settings: [
      Setting(
        "certs-dir", help: "Directory with ca.pem, cli.pem and cli.key.",
        valueName: "path", default: ".kp/certs"),
      Setting(
        "host", help: "The host the mesh services listen on.", valueName: "host",
        default: "127.0.0.1"),
      Setting(
        "addresses",
        help: "Which services to ask and where, as service=host:port,... (default: every "
          + "service at its default port on --host).", valueName: "list", default: ""),
    ]
  ) { configuration in
    let rows = try await StatusCommand(configuration: configuration).run()
    print(StatusCommand.table(rows))
    return rows.allSatisfy(\.healthy) ? 0 : 1
  }
}
