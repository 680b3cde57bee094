import Foundation
import KPRPC
import KPServiceKit

/// What a run does, from the command line, the environment and the configuration file.
struct LoadOptions: Sendable {
  /// The gateway's external RPC port.
  var target: SocketAddress
  /// The gateway's HTTPS port, when the run drives the REST API instead of the RPC port.
  var httpsTarget: SocketAddress?
  /// The host name the gateway's certificate must carry.
  var serverName: String
  /// The CA bundle that verifies the gateway, or nil for the system roots.
  var caFile: String?
  /// The tenants to run as, in order.
  var credentials: [TenantCredential]
  /// Connections opened to the gateway.
  var connections: Int
  /// Requests in flight at once (one worker each).
  var concurrency: Int
  /// The share of each operation.
  var mix: RequestMix
  /// How long requests run unrecorded before measuring starts.
  var warmup: Duration
  /// How long the measured phase may last.
  var duration: Duration
  /// How many measured requests may be sent.
  var requests: Int
  /// How long one request may take.
  var timeout: Duration
  /// Documents read per tenant before the run to learn query terms and ids.
  var sampleDocuments: Int
  /// Seeds every random choice, so runs repeat.
  var seed: UInt64
  /// Whether standard output gets JSON instead of the table.
  var json: Bool
  /// A file the JSON report is also written to.
  var jsonOut: String?

  /// The address the run drives: the HTTPS port when given, else the RPC port.
  var endpoint: SocketAddress { httpsTarget ?? target }

  /// The settings `kp-load` declares, in `--help` order.
  static let settings: [Setting] = [
    Setting(
      "target", help: "The gateway's external RPC port.", valueName: "host:port",
      default: "127.0.0.1:\(MeshService.defaultPorts["gateway"] ?? 7200)"),
    Setting(
      "https-target",
      help: "Drive the gateway's HTTPS REST API at this host:port instead of the RPC port; "
        + "the documents sampled are those a search for common words finds.",
      valueName: "host:port", default: ""),
    Setting(
      "server-name",
      help: "The host name the gateway's RPC certificate must carry (default: the target's "
        + "host); HTTPS checks the https-target's host.",
      valueName: "name", default: ""),
    Setting(
      "ca-file",
      help: "PEM bundle of the CA that signed the gateway's certificate; empty uses the "
        + "system's roots.", valueName: "path", default: ".kp/certs/ca.pem"),
    Setting(
      "credentials",
      help: "File of 'tenant-label credential' lines (an access token or API key each); "
        + "blank lines and lines starting with # are skipped.", valueName: "path", default: ""),
    Setting(
      "token",
      help: "One credential (access token or API key), for a run as a single tenant labelled "
        + "'default'; prefer the environment or --credentials, which stay out of 'ps'.",
      valueName: "credential", default: ""),
    Setting(
      "tenants", help: "How many tenants of the credentials file to use (0: all of them).",
      valueName: "count", default: "0"),
    Setting(
      "connections", help: "Connections opened to the gateway, shared by every tenant.",
      valueName: "count", default: "2"),
    Setting(
      "concurrency",
      help: "Requests in flight at once; workers are spread evenly over the tenants.",
      valueName: "count", default: "8"),
    Setting(
      "mix", help: "Relative weights of the operations search, get and ingest.",
      valueName: "name=weight,...", default: "search=80,get=15,ingest=5"),
    Setting(
      "warmup", help: "How long requests run unrecorded before measuring (such as 2s).",
      valueName: "duration", default: "2s"),
    Setting(
      "duration",
      help: "The longest the measured phase may last; it also ends after --requests.",
      valueName: "duration", default: "30s"),
    Setting(
      "requests",
      help: "The most measured requests sent; the run ends at this count or after --duration, "
        + "whichever comes first.", valueName: "count", default: "100000"),
    Setting(
      "timeout", help: "How long one request may take.", valueName: "duration",
      default: "10s"),
    Setting(
      "sample-documents",
      help: "Documents read per tenant before the run, whose titles and text give the search "
        + "terms and whose ids the reads use.", valueName: "count", default: "20"),
    Setting(
      "seed", help: "Seeds every random choice, so a run repeats its sequence of requests.",
      valueName: "number", default: "1"),
    .switch("json", help: "Print the report as JSON instead of a table."),
    Setting(
      "json-out", help: "Also write the JSON report to this file.", valueName: "path",
      default: ""),
  ]

  /// Reads the options from a parsed configuration.
  ///
  /// - Throws: ``LoadError`` or ``ConfigurationError`` naming the setting that is wrong.
  init(_ configuration: ServiceConfiguration) throws {
    let targetText = try configuration.string("target")
    guard let target = SocketAddress(targetText), !target.host.isEmpty, target.port > 0 else {
      throw LoadError(.invalidSetting, "target '\(targetText)' is not of the form host:port")
    }
    self.target = target
    let httpsText = configuration.value("https-target") ?? ""
    if httpsText.isEmpty {
      httpsTarget = nil
    } else {
      guard let https = SocketAddress(httpsText), !https.host.isEmpty, https.port > 0 else {
        throw LoadError(
          .invalidSetting, "https-target '\(httpsText)' is not of the form host:port")
      }
      httpsTarget = https
    }
    let name = configuration.value("server-name") ?? ""
    serverName = name.isEmpty ? (httpsTarget ?? target).host : name
    let ca = configuration.value("ca-file") ?? ""
    caFile = ca.isEmpty ? nil : ca
    if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
      throw LoadError(
        .invalidSetting,
        "ca-file \(caFile) cannot be read; pass --ca-file with the gateway's CA bundle, or an "
          + "empty value for the system's roots")
    }

    credentials = try Self.credentials(configuration)
    connections = try configuration.integer("connections", in: 1...1024)
    concurrency = try configuration.integer("concurrency", in: 1...100_000)
    guard concurrency >= credentials.count else {
      throw LoadError(
        .invalidSetting,
        "concurrency is \(concurrency) but \(credentials.count) tenants need a worker each; raise "
          + "--concurrency or lower --tenants")
    }
    mix = try RequestMix(parsing: try configuration.string("mix"))
    warmup = try DurationText.parse(try configuration.string("warmup"), setting: "warmup")
    duration = try DurationText.parse(try configuration.string("duration"), setting: "duration")
    guard duration > .zero else {
      throw LoadError(.invalidSetting, "duration must be above 0, such as 10s")
    }
    requests = try configuration.integer("requests", in: 1...1_000_000_000)
    timeout = try DurationText.parse(try configuration.string("timeout"), setting: "timeout")
    guard timeout > .zero else {
      throw LoadError(.invalidSetting, "timeout must be above 0, such as 10s")
    }
    sampleDocuments = try configuration.integer("sample-documents", in: 1...1000)
    let seedText = try configuration.string("seed")
    guard let seed = UInt64(seedText) else {
      throw LoadError(.invalidSetting, "seed '\(seedText)' is not a whole number of 0 or more")
    }
    self.seed = seed
    json = try configuration.isOn("json")
    let out = configuration.value("json-out") ?? ""
    jsonOut = out.isEmpty ? nil : out
  }

  /// The credentials from `--credentials` or `--token`, cut to `--tenants`.
  private static func credentials(
    _ configuration: ServiceConfiguration
  ) throws -> [TenantCredential] {
    let path = configuration.value("credentials") ?? ""
    let token = configuration.value("token") ?? ""
    var credentials: [TenantCredential]
    switch (path.isEmpty, token.isEmpty) {
    case (false, true):
      credentials = try TenantCredential.load(path: path)
    case (true, false):
      credentials = [TenantCredential(tenant: "default", token: token)]
    case (false, false):
      throw LoadError(
        .invalidSetting, "give either --credentials or --token (KP_TOKEN), not both")
    case (true, true):
      throw LoadError(
        .invalidSetting,
        "no credential: pass --credentials FILE (lines 'tenant-label credential') or set "
          + "KP_TOKEN to an access token or API key")
    }
    let tenants = try configuration.integer("tenants", in: 0...100_000)
    if tenants > 0 {
      guard tenants <= credentials.count else {
        throw LoadError(
          .invalidSetting,
          "tenants is \(tenants) but the credentials list only \(credentials.count)")
      }
      credentials = Array(credentials.prefix(tenants))
    }
    return credentials
  }
}
