import Foundation
import KPServiceKit

/// `kp login` and `kp logout`: a user's session, saved for the commands that follow.
enum SessionCommands {
  static let all: [Subcommand] = [login, logout]

  static let login = Subcommand(
    words: ["login"],
    summary: "Sign in and save the tokens for later commands (--credentials-file).",
    settings: [
      Setting(
        "tenant", help: "The tenant's slug (empty for the platform administrator).",
        valueName: "slug", default: ""),
      Setting("email", help: "The user's email address.", valueName: "email"),
      Setting(
        "password-file",
        help: "Read the password from this file (else KP_PASSWORD, else standard input).",
        valueName: "path"),
    ] + ClientSettings.all
  ) { configuration in
    let email = try Subcommand.required(configuration, "email")
    let tenant = configuration.value("tenant") ?? ""
    let password = try Password.read(file: configuration.value("password-file"))
    let client = try GatewayClient(configuration: configuration)
    let tokens = try client.request(
      TokenResponse.self, .post, "/v1/auth/login",
      body: ["tenant": tenant, "email": email, "password": password], authenticated: false)
    let path = configuration.value(ClientSettings.credentialsFile.name) ?? ""
    try SavedCredentials(
      gateway: client.address, tenant: tenant, email: email, accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: Date().timeIntervalSince1970 + Double(tokens.expiresIn)
    ).save(path: path)
    let who = tenant.isEmpty ? "\(email) (platform administrator)" : "\(email) of \(tenant)"
    print("signed in as \(who); tokens saved in \(path)")
    return 0
  }

  static let logout = Subcommand(
    words: ["logout"], summary: "Revoke the saved session and forget its tokens.",
    settings: ClientSettings.all
  ) { configuration in
    let path = configuration.value(ClientSettings.credentialsFile.name) ?? ""
    guard let saved = try SavedCredentials.load(path: path) else {
      print("not signed in (no \(path))")
      return 0
    }
    let client = try GatewayClient(configuration: configuration)
    do {
      try client.request(.post, "/v1/auth/logout", body: ["refresh_token": saved.refreshToken])
    } catch let error as CLIError where error.code == "UNAUTHENTICATED" {
      // Already expired or revoked: forgetting the tokens is all that is left to do.
    }
    SavedCredentials.remove(path: path)
    print("signed out \(saved.email)")
    return 0
  }
}
