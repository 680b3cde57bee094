import Foundation
import KPProtocol
import KPRPC
import KPTLS
import KPTesting

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// The real platform for a load test: kp-tenants, kp-auth, kp-knowledge, kp-ingest and
/// kp-gateway as processes on one fresh database, over mutual TLS on loopback, with tenants,
/// an editor per tenant and documents to search.
final class LoadMesh: @unchecked Sendable {
  let platform: PlatformProcesses
  private let tenants: RPCChannel
  private let auth: RPCChannel
  private let knowledge: RPCChannel
  private let adminToken: String

  /// The gateway's process; its port is the external RPC port.
  var gateway: ServiceProcess { platform.gateway }
  /// The gateway's admin port, with /metrics.
  var gatewayMetricsPort: Int { platform.gatewayMetricsPort }
  /// The gateway's HTTPS port.
  var gatewayHTTPSPort: Int { platform.httpsPort }
  /// The test CA's certificate, for kp-load's `--ca-file`.
  var caFile: String { platform.caPath }

  private init(
    platform: PlatformProcesses, tenants: RPCChannel, auth: RPCChannel, knowledge: RPCChannel,
    adminToken: String
  ) {
    self.platform = platform
    self.tenants = tenants
    self.auth = auth
    self.knowledge = knowledge
    self.adminToken = adminToken
  }

  /// Runs `body` with every service started on a fresh database, then stops them.
  static func with(_ body: (LoadMesh) async throws -> Void) async throws {
    TLSRuntime.ignoreSIGPIPE()
    try await PlatformProcesses.with { platform in
      let mesh = platform.mesh
      let port = { (service: String) in [platform.services[service]?.port ?? 0] }
      let tenantsChannel = try mesh.channel(from: "cli", to: "tenants", ports: port("tenants"))
      let authChannel = try mesh.channel(from: "gateway", to: "auth", ports: port("auth"))
      let knowledgeChannel = try mesh.channel(
        from: "ingest", to: "knowledge", ports: port("knowledge"))
      defer {
        tenantsChannel.close()
        authChannel.close()
        knowledgeChannel.close()
      }
      let admin = try await login(
        authChannel, tenant: "", PlatformProcesses.adminEmail, PlatformProcesses.adminPassword)
      try await body(
        LoadMesh(
          platform: platform, tenants: tenantsChannel, auth: authChannel,
          knowledge: knowledgeChannel, adminToken: admin))
    }
  }

  /// Creates an enterprise-plan tenant with an editor; returns its id and the editor's access
  /// token.
  func makeTenant(_ slug: String) async throws -> (id: String, token: String) {
    var create = Kp_Tenants_V1_CreateTenantRequest()
    create.slug = slug
    create.displayName = slug.capitalized
    create.planId = "enterprise"
    let tenant = try await tenants.unary(Kp_Tenants_V1_Tenants.createTenant, create).tenant
    let id = tenant?.id ?? ""

    var user = Kp_Auth_V1_CreateUserRequest()
    user.tenantId = id
    user.email = "editor@\(slug).example"
    user.role = .editor
    user.password = "correct horse battery"
    var options = CallOptions()
    options.metadata.add(MetadataKey.authorization, "Bearer " + adminToken)
    _ = try await auth.unary(Kp_Auth_V1_Auth.createUser, user, options: options)
    let token = try await Self.login(
      auth, tenant: slug, "editor@\(slug).example", "correct horse battery")
    return (id, token)
  }

  /// Stores documents in a tenant directly in the knowledge store, visible tenant-wide.
  func store(_ tenantID: String, _ documents: [(title: String, text: String)]) async throws {
    var request = Kp_Knowledge_V1_UpsertDocumentsRequest()
    request.documents = documents.enumerated().map { index, content in
      var document = Kp_Knowledge_V1_Document()
      document.source = "wiki"
      document.externalId = "page-\(index)"
      document.title = content.title
      document.text = content.text
      document.contentType = "text/plain"
      var access = Kp_Knowledge_V1_AccessList()
      access.tenantWide = true
      document.access = access
      return document
    }
    var options = CallOptions()
    options.metadata.add(MetadataKey.tenant, tenantID)
    _ = try await knowledge.unary(
      Kp_Knowledge_V1_Knowledge.upsertDocuments, request, options: options)
  }

  /// The gateway's external RPC calls by method and status, from its /metrics.
  func gatewayCalls() async throws -> [String: [String: Int]] {
    var calls: [String: [String: Int]] = [:]
    for (labels, value) in try await samples("kp_rpc_server_calls_total") {
      calls[labels["method"] ?? "", default: [:]][labels["code"] ?? ""] = value
    }
    return calls
  }

  /// The gateway's HTTPS requests as `METHOD /route` by status, from its /metrics.
  func gatewayRequests() async throws -> [String: [String: Int]] {
    var requests: [String: [String: Int]] = [:]
    for (labels, value) in try await samples("kp_gateway_requests_total") {
      let call = "\(labels["method"] ?? "") \(labels["route"] ?? "")"
      requests[call, default: [:]][labels["status"] ?? ""] = value
    }
    return requests
  }

  /// The samples of one counter, each with its labels, such as
  /// `name{method="/a.B/C",code="OK"} 12`.
  private func samples(_ name: String) async throws -> [([String: String], Int)] {
    let (body, _) = try await URLSession.shared.data(
      from: URL(string: "http://127.0.0.1:\(gatewayMetricsPort)/metrics")!)
    var samples: [([String: String], Int)] = []
    for line in String(decoding: body, as: UTF8.self).split(separator: "\n")
    where line.hasPrefix(name + "{") {
      guard let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}"),
        let value = Int(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces))
      else { continue }
      var labels: [String: String] = [:]
      for pair in line[line.index(after: open)..<close].split(separator: ",") {
        let parts = pair.split(separator: "=", maxSplits: 1)
        guard parts.count == 2 else { continue }
        labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
      }
      samples.append((labels, value))
    }
    return samples
  }

  /// Runs the built kp-load to its end; returns its exit status and output.
  static func runLoad(_ arguments: [String]) async throws -> (status: Int32?, log: String) {
    let process = try await ServiceProcess.start(
      "kp-load", arguments: arguments, waitForServing: false)
    let status = await process.waitForExit(timeout: .seconds(60))
    if status == nil { process.kill(SIGKILL) }
    return (status, process.log)
  }

  private static func login(
    _ auth: RPCChannel, tenant: String, _ email: String, _ password: String
  ) async throws -> String {
    var request = Kp_Auth_V1_LoginRequest()
    request.tenantSlug = tenant
    request.email = email
    request.password = password
    return try await auth.unary(Kp_Auth_V1_Auth.login, request).tokens?.accessToken ?? ""
  }
}
