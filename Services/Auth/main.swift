// kp-auth: Users, password hashes, groups, roles, API keys and signing keys; issues and verifies
// tokens.
import Foundation
import KPDatabase
import KPRPC
import KPServiceKit

let command = ServiceCommand(
  name: "kp-auth",
  summary:
    "Users, password hashes, groups, roles, API keys and signing keys; issues and "
    + "verifies tokens. 'serve' (the default) runs the RPC service; 'hash-password' reads a "
    + "password from standard input and prints its argon2id hash for "
    + "--platform-admin-password-hash.",
  settings: MeshService.settings(service: "auth") + DatabaseSettings.settings + AuthSettings.all,
  argumentsUsage: "[serve | hash-password]"
)
let configuration = command.parseOrExit()
let logger = configuration.makeLogger(label: command.name)

/// Prints a problem with the configuration and exits with the usage status.
func refuse(_ message: String) -> Never {
  FileHandle.standardError.write(Data("kp-auth: \(message)\n".utf8))
  exit(ServiceCommand.usageExitStatus)
}

let action = configuration.arguments.first ?? "serve"
guard configuration.arguments.count <= 1, ["serve", "hash-password"].contains(action) else {
  refuse("unknown command '\(action)'; use 'serve' or 'hash-password'")
}
if action == "serve",
  let status = MeshService.checkSettings(
    service: "auth", configuration: configuration, logger: logger)
{
  exit(status)
}

let hasher: PasswordHasher
do {
  hasher = try PasswordHasher(parameters: try AuthSettings.passwordParameters(configuration))
} catch {
  refuse("\(error)")
}

if action == "hash-password" {
  guard let password = readLine(strippingNewline: true), !password.isEmpty else {
    refuse("hash-password reads the password from standard input; none was given")
  }
  do {
    print(try await hasher.hash(password))
    exit(0)
  } catch {
    refuse("\(error)")
  }
}

let service: AuthService
let clusters: DatabaseClusters
let keys: SigningKeyStore
do {
  clusters = try DatabaseSettings.clusters(
    configuration, applicationName: "kp-auth", logger: logger)
  let staleness = try DatabaseSettings.tenantCacheStaleness(configuration)
  let tenants: TenantAccess
  switch try configuration.string("tenant-source") {
  case "registry-tables":
    tenants = TenantAccess.registryTables(clusters.registry, maximumStaleness: staleness)
  case "registry-service":
    let addresses = try configuration.string("tenants-address").split(separator: ",").map {
      String($0).trimmingCharacters(in: .whitespaces)
    }
    let endpoints = try addresses.map { text throws(ConfigurationError) in
      guard let address = SocketAddress(text) else {
        throw ConfigurationError(
          code: .invalidValue, message: "--tenants-address '\(text)' is not host:port")
      }
      return address
    }
    let channel = RPCChannel(
      target: RPCTarget(
        endpoints: endpoints, expectedIdentity: MeshService.identity(of: "tenants")),
      tls: try MeshService.tlsContext(service: "auth", configuration: configuration, server: false),
      logger: logger)
    tenants = TenantAccess.registryService(channel, maximumStaleness: staleness)
  case let other:
    refuse("--tenant-source '\(other)' must be registry-service or registry-tables")
  }
  keys = SigningKeyStore(
    pool: clusters.registry,
    sealer: try KeySealer(key: try AuthSettings.keyEncryptionKey(configuration)),
    rotationInterval: TimeInterval(
      try configuration.integer("signing-key-rotation-hours", in: 1...8760)) * 3600,
    logger: logger)
  service = AuthService(
    databases: TenantDatabases(
      clusters: clusters,
      directory: TenantDirectory.registry(clusters.registry, maximumStaleness: staleness)),
    tenants: tenants, keys: keys, hasher: hasher, throttles: LoginThrottles(),
    options: try AuthSettings.options(configuration), logger: logger)
} catch {
  refuse("\(error)")
}

do {
  try await keys.install()
  try await keys.refresh()
} catch {
  logger.error("could not load the signing keys", ["error": "\(error)"])
  exit(1)
}

let reloader = Task { await keys.run() }
let status = await MeshService.run(
  service: "auth", configuration: configuration, services: [service], logger: logger)
reloader.cancel()
clusters.close()
exit(status)
