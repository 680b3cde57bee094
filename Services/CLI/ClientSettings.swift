import Foundation
import KPServiceKit

/// The settings every command that talks to the gateway shares: where it is, how to trust
/// it, and which credential to send.
enum ClientSettings {
  /// The gateway's HTTPS address.
  static let gateway = Setting(
    "gateway", help: "The gateway's HTTPS address.", valueName: "url",
    default: "https://127.0.0.1:7100")

  /// The CA certificates the gateway's certificate is checked against.
  static let caFile = Setting(
    "ca-file",
    help: "PEM file of CA certificates to trust for the gateway (empty: the system's roots).",
    valueName: "path", default: ".kp/certs/ca.pem")

  /// An explicit bearer credential.
  static let token = Setting(
    "token",
    help: "Access token or API key to send. Without it, the credential saved by 'kp login' is "
      + "used.",
    valueName: "token")

  /// Where `kp login` keeps its tokens.
  static let credentialsFile = Setting(
    "credentials-file", help: "Where 'kp login' saves its tokens (mode 0600).",
    valueName: "path", default: defaultCredentialsPath)

  /// How long one request may wait.
  static let timeout = Setting(
    "timeout", help: "Seconds one request may wait for the gateway.", valueName: "seconds",
    default: "30")

  /// Machine-readable output.
  static let json = Setting.switch("json", help: "Print JSON instead of a table.")

  /// The settings of every command that calls the gateway.
  static let all: [Setting] = [gateway, caFile, token, credentialsFile, timeout, json]

  /// `~/.config/knowledgeplane/credentials.json`, or under `$XDG_CONFIG_HOME`.
  static var defaultCredentialsPath: String {
    configDirectory + "/credentials.json"
  }

  /// The configuration file read when no `--config` is given, if it exists.
  static var defaultConfigPath: String {
    configDirectory + "/kp.conf"
  }

  private static var configDirectory: String {
    let environment = ProcessInfo.processInfo.environment
    if let base = environment["XDG_CONFIG_HOME"], !base.isEmpty {
      return base + "/knowledgeplane"
    }
    let home = environment["HOME"] ?? NSHomeDirectory()
    return home + "/.config/knowledgeplane"
  }
}
