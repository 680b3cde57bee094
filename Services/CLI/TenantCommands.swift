import Foundation
import KPServiceKit

/// `kp tenants ...`: the platform administrator's tenant management.
enum TenantCommands {
  static let all: [Subcommand] = [create, list, get, suspend, resume, changePlan, delete]

  static let create = Subcommand(
    words: ["tenants", "create"], summary: "Create a tenant (platform administrator).",
    settings: [
      Setting("name", help: "The tenant's display name (default: the slug).", valueName: "text"),
      Setting("plan", help: "The plan's id.", valueName: "plan", default: "team"),
    ] + ClientSettings.all,
    argumentsUsage: "<slug>"
  ) { configuration in
    let slug = try Subcommand.single(configuration, "a tenant slug")
    let client = try GatewayClient(configuration: configuration)
    let name = configuration.value("name").flatMap { $0.isEmpty ? nil : $0 } ?? slug
    let data = try client.request(
      .post, "/v1/tenants",
      body: ["slug": slug, "name": name, "plan": configuration.value("plan") ?? "team"])
    return try show(data, configuration)
  }

  static let list = Subcommand(
    words: ["tenants", "list"], summary: "List tenants (platform administrator).",
    settings: [
      Setting("limit", help: "Tenants per page (1-1000).", valueName: "n", default: "100")
    ] + ClientSettings.all
  ) { configuration in
    let limit = try configuration.integer("limit", in: 1...1000)
    let client = try GatewayClient(configuration: configuration)
    var all: [TenantShape] = []
    var token = ""
    var pages: [Data] = []
    repeat {
      let data = try client.request(
        .get, "/v1/tenants",
        query: [("limit", "\(limit)"), ("page_token", token)])
      pages.append(data)
      let page = try APIJSON.decoder.decode(Page<TenantShape>.self, from: data)
      all += page.items
      token = page.nextPageToken ?? ""
    } while !token.isEmpty && all.count < 100_000
    if try configuration.isOn("json") {
      let objects = try pages.flatMap { data -> [Any] in
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return object?["items"] as? [Any] ?? []
      }
      Output.json(try JSONSerialization.data(withJSONObject: ["items": objects]))
      return 0
    }
    Output.table(
      ["SLUG", "NAME", "PLAN", "STATUS", "CREATED", "ID"],
      all.map {
        [$0.slug, $0.name ?? "", $0.plan ?? "", $0.status ?? "", $0.createdAt ?? "", $0.id]
      })
    return 0
  }

  static let get = Subcommand(
    words: ["tenants", "get"], summary: "Show a tenant, its quotas and usage.",
    settings: ClientSettings.all, argumentsUsage: "<slug>"
  ) { configuration in
    let slug = try Subcommand.single(configuration, "a tenant slug")
    let client = try GatewayClient(configuration: configuration)
    return try show(
      try client.request(.get, "/v1/tenants/\(GatewayClient.segment(slug))"), configuration)
  }

  static let suspend = Subcommand(
    words: ["tenants", "suspend"],
    summary: "Suspend a tenant: its users, keys and tokens are refused until it is resumed.",
    settings: [
      Setting("reason", help: "Why, recorded with the tenant.", valueName: "text", default: "")
    ] + ClientSettings.all,
    argumentsUsage: "<slug>"
  ) { configuration in
    try change(configuration, ["status": "suspended", "reason": configuration.value("reason")])
  }

  static let resume = Subcommand(
    words: ["tenants", "resume"], summary: "Resume a suspended tenant.",
    settings: ClientSettings.all, argumentsUsage: "<slug>"
  ) { configuration in
    try change(configuration, ["status": "active"])
  }

  static let changePlan = Subcommand(
    words: ["tenants", "change-plan"],
    summary: "Move a tenant to another plan, with that plan's quotas and rate limits.",
    settings: [
      Setting("plan", help: "The new plan's id (free, team, enterprise).", valueName: "plan")
    ] + ClientSettings.all,
    argumentsUsage: "<slug>"
  ) { configuration in
    try change(configuration, ["plan": try Subcommand.required(configuration, "plan")])
  }

  static let delete = Subcommand(
    words: ["tenants", "delete"],
    summary: "Delete a tenant with all its data. Asks for --yes.",
    settings: [
      Setting.switch("yes", help: "Confirm that the tenant and all its data go.")
    ] + ClientSettings.all,
    argumentsUsage: "<slug>"
  ) { configuration in
    let slug = try Subcommand.single(configuration, "a tenant slug")
    guard try configuration.isOn("yes") else {
      throw CLIError.usage(
        "deleting '\(slug)' removes all its users, keys and documents; add --yes to confirm")
    }
    let client = try GatewayClient(configuration: configuration)
    try client.request(.delete, "/v1/tenants/\(GatewayClient.segment(slug))")
    print("deleted tenant \(slug)")
    return 0
  }

  private static func change(
    _ configuration: ServiceConfiguration, _ body: [String: String?]
  ) throws -> Int32 {
    let slug = try Subcommand.single(configuration, "a tenant slug")
    let client = try GatewayClient(configuration: configuration)
    let data = try client.request(
      .patch, "/v1/tenants/\(GatewayClient.segment(slug))",
      body: body.compactMapValues { $0.flatMap { $0.isEmpty ? nil : $0 } })
    return try show(data, configuration)
  }

  private static func show(_ data: Data, _ configuration: ServiceConfiguration) throws -> Int32 {
    if try configuration.isOn("json") {
      Output.json(data)
      return 0
    }
    let tenant = try APIJSON.decoder.decode(TenantShape.self, from: data)
    var pairs = [
      ("slug", tenant.slug), ("id", tenant.id), ("name", tenant.name ?? ""),
      ("plan", tenant.plan ?? ""), ("status", tenant.status ?? ""),
      ("created", tenant.createdAt ?? ""),
    ]
    if let reason = tenant.suspendedReason, !reason.isEmpty {
      pairs.append(("suspended because", reason))
    }
    if let usage = tenant.usage {
      pairs.append(("documents", "\(usage.documents ?? 0)"))
      pairs.append(("stored", Output.bytes(usage.storedBytes ?? 0)))
    }
    if let quotas = tenant.quotas {
      pairs.append(("max documents", "\(quotas.maxDocuments ?? 0)"))
      pairs.append(("max stored", Output.bytes(quotas.maxStoredBytes ?? 0)))
      pairs.append(("rate limit", "\(quotas.requestsPerSecond ?? 0)/s, burst \(quotas.burst ?? 0)"))
    }
    Output.fields(pairs)
    return 0
  }
}
