import Foundation
import KPServiceKit

/// `kp keys ...`: API keys of the caller's tenant.
enum KeyCommands {
  static let all: [Subcommand] = [create, list, revoke]

  static let create = Subcommand(
    words: ["keys", "create"],
    summary: "Create an API key; its secret is printed once and never again.",
    settings: [
      Setting(
        "scopes", help: "Comma-separated scopes: search, ingest, admin.",
        valueName: "list", default: "search")
    ] + ClientSettings.all,
    argumentsUsage: "<name>"
  ) { configuration in
    let name = try Subcommand.single(configuration, "a key name")
    let scopes = Subcommand.list(configuration, "scopes") ?? []
    guard !scopes.isEmpty else { throw CLIError.usage("--scopes needs at least one scope") }
    let client = try GatewayClient(configuration: configuration)
    let data = try client.request(.post, "/v1/api-keys", body: ["name": name, "scopes": scopes])
    if try configuration.isOn("json") {
      Output.json(data)
      return 0
    }
    let key = try APIJSON.decoder.decode(APIKeyShape.self, from: data)
    Output.fields([
      ("name", key.name ?? name), ("id", key.id),
      ("scopes", (key.scopes ?? scopes).joined(separator: ", ")),
      ("secret", key.secret ?? "(not returned)"),
    ])
    Output.note("Keep the secret now: it is not shown again. Use it as --token or KP_TOKEN.")
    return 0
  }

  static let list = Subcommand(
    words: ["keys", "list"], summary: "List the tenant's API keys (never their secrets).",
    settings: ClientSettings.all
  ) { configuration in
    let client = try GatewayClient(configuration: configuration)
    let data = try client.request(.get, "/v1/api-keys", query: [("limit", "1000")])
    if try configuration.isOn("json") {
      Output.json(data)
      return 0
    }
    let page = try APIJSON.decoder.decode(Page<APIKeyShape>.self, from: data)
    Output.table(
      ["NAME", "SCOPES", "PREFIX", "CREATED", "LAST USED", "REVOKED", "ID"],
      page.items.map {
        [
          $0.name ?? "", ($0.scopes ?? []).joined(separator: ","), $0.prefix ?? "",
          $0.createdAt ?? "", $0.lastUsedAt ?? "", ($0.revoked ?? false) ? "yes" : "", $0.id,
        ]
      })
    return 0
  }

  static let revoke = Subcommand(
    words: ["keys", "revoke"], summary: "Revoke an API key at once.",
    settings: ClientSettings.all, argumentsUsage: "<key-id>"
  ) { configuration in
    let id = try Subcommand.single(configuration, "a key id")
    let client = try GatewayClient(configuration: configuration)
    try client.request(.delete, "/v1/api-keys/\(GatewayClient.segment(id))")
    print("revoked key \(id)")
    return 0
  }
}
