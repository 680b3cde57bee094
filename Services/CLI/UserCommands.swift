import Foundation
import KPServiceKit

/// `kp users ...`: a tenant administrator's user management (the platform administrator
/// may create a tenant's first users).
enum UserCommands {
  static let all: [Subcommand] = [create, list, get, update, delete]

  private static let passwordFile = Setting(
    "password-file",
    help: "Read the password from this file (else KP_PASSWORD, else standard input).",
    valueName: "path")

  static let create = Subcommand(
    words: ["users", "create"], summary: "Create a user in a tenant.",
    settings: [
      Setting("tenant", help: "The tenant's slug.", valueName: "slug"),
      Setting(
        "role", help: "owner, admin, editor, member or viewer.", valueName: "role",
        default: "member"),
      Setting("groups", help: "Comma-separated group names.", valueName: "list", default: ""),
      Setting("name", help: "The user's display name.", valueName: "text", default: ""),
      passwordFile,
    ] + ClientSettings.all,
    argumentsUsage: "<email>"
  ) { configuration in
    let email = try Subcommand.single(configuration, "an email address")
    let tenant = try Subcommand.required(configuration, "tenant")
    let password = try Password.read(file: configuration.value("password-file"))
    let client = try GatewayClient(configuration: configuration)
    var body: [String: Any] = [
      "email": email, "password": password, "role": configuration.value("role") ?? "member",
      "groups": Subcommand.list(configuration, "groups") ?? [],
    ]
    if let name = configuration.value("name"), !name.isEmpty { body["name"] = name }
    let data = try client.request(
      .post, "/v1/tenants/\(GatewayClient.segment(tenant))/users", body: body)
    return try show(data, configuration)
  }

  static let list = Subcommand(
    words: ["users", "list"], summary: "List the users of the caller's tenant.",
    settings: ClientSettings.all
  ) { configuration in
    let client = try GatewayClient(configuration: configuration)
    var users: [UserShape] = []
    var token = ""
    repeat {
      let data = try client.request(
        .get, "/v1/users", query: [("limit", "1000"), ("page_token", token)])
      let page = try APIJSON.decoder.decode(Page<UserShape>.self, from: data)
      users += page.items
      token = page.nextPageToken ?? ""
    } while !token.isEmpty && users.count < 1_000_000
    if try configuration.isOn("json") {
      print(String(decoding: try APIJSON.encoder.encode(["items": users]), as: UTF8.self))
      return 0
    }
    Output.table(
      ["EMAIL", "ROLE", "GROUPS", "DISABLED", "ID"],
      users.map {
        [
          $0.email, $0.role ?? "", ($0.groups ?? []).joined(separator: ","),
          ($0.disabled ?? false) ? "yes" : "", $0.id,
        ]
      })
    return 0
  }

  static let get = Subcommand(
    words: ["users", "get"], summary: "Show one user.", settings: ClientSettings.all,
    argumentsUsage: "<user-id>"
  ) { configuration in
    let id = try Subcommand.single(configuration, "a user id")
    let client = try GatewayClient(configuration: configuration)
    return try show(
      try client.request(.get, "/v1/users/\(GatewayClient.segment(id))"), configuration)
  }

  static let update = Subcommand(
    words: ["users", "update"],
    summary: "Change a user's role, groups, name, password or whether they are disabled.",
    settings: [
      Setting("role", help: "The new role.", valueName: "role"),
      Setting(
        "groups", help: "The new comma-separated group list (empty: none).",
        valueName: "list"),
      Setting("name", help: "The new display name.", valueName: "text"),
      Setting(
        "disabled", help: "true to disable sign-in, false to enable it.",
        valueName: "bool"),
      Setting.switch("set-password", help: "Set a new password (read as for create)."),
      passwordFile,
    ] + ClientSettings.all,
    argumentsUsage: "<user-id>"
  ) { configuration in
    let id = try Subcommand.single(configuration, "a user id")
    var body: [String: Any] = [:]
    if let role = configuration.value("role") { body["role"] = role }
    if let groups = Subcommand.list(configuration, "groups") { body["groups"] = groups }
    if let name = configuration.value("name") { body["name"] = name }
    if let disabled = configuration.value("disabled") {
      guard let flag = Bool(disabled.lowercased()) else {
        throw CLIError.usage("--disabled must be true or false, not '\(disabled)'")
      }
      body["disabled"] = flag
    }
    if try configuration.isOn("set-password") {
      body["password"] = try Password.read(file: configuration.value("password-file"))
    }
    guard !body.isEmpty else {
      throw CLIError.usage(
        "nothing to change: give --role, --groups, --name, --disabled or --set-password")
    }
    let client = try GatewayClient(configuration: configuration)
    let data = try client.request(.patch, "/v1/users/\(GatewayClient.segment(id))", body: body)
    return try show(data, configuration)
  }

  static let delete = Subcommand(
    words: ["users", "delete"], summary: "Delete a user.", settings: ClientSettings.all,
    argumentsUsage: "<user-id>"
  ) { configuration in
    let id = try Subcommand.single(configuration, "a user id")
    let client = try GatewayClient(configuration: configuration)
    try client.request(.delete, "/v1/users/\(GatewayClient.segment(id))")
    print("deleted user \(id)")
    return 0
  }

  private static func show(_ data: Data, _ configuration: ServiceConfiguration) throws -> Int32 {
    if try configuration.isOn("json") {
      Output.json(data)
      return 0
    }
    let user = try APIJSON.decoder.decode(UserShape.self, from: data)
    Output.fields([
      ("email", user.email), ("id", user.id), ("role", user.role ?? ""),
      ("groups", (user.groups ?? []).joined(separator: ", ")),
      ("disabled", (user.disabled ?? false) ? "yes" : "no"), ("created", user.createdAt ?? ""),
    ])
    return 0
  }
}
