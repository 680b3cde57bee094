// kp-tenants: the tenant registry: tenants, plans and quotas, schema provisioning, migrations
// and placement.
import Foundation
import KPDatabase
import KPServiceKit

let command = ServiceCommand(
  name: "kp-tenants",
  summary: "The tenant registry: tenants, plans and quotas, schema provisioning, migrations "
    + "and placement. 'serve' (the default) runs the RPC service; 'migrate' applies pending "
    + "tenant schema migrations to every tenant and exits.",
  settings: MeshService.settings(service: "tenants") + DatabaseSettings.settings
    + TenantsSettings.all,
  argumentsUsage: "[serve | migrate]"
)
let configuration = command.parseOrExit()
let logger = configuration.makeLogger(label: command.name)

let action = configuration.arguments.first ?? "serve"
guard configuration.arguments.count <= 1, ["serve", "migrate"].contains(action) else {
  FileHandle.standardError.write(
    Data("kp-tenants: unknown command '\(action)'; use 'serve' or 'migrate'\n".utf8))
  exit(ServiceCommand.usageExitStatus)
}
if action == "serve",
  let status = MeshService.checkSettings(
    service: "tenants", configuration: configuration, logger: logger)
{
  exit(status)
}

// The registry, on the configured clusters.
let registry: TenantRegistry
let clusters: DatabaseClusters
do {
  clusters = try DatabaseSettings.clusters(
    configuration, applicationName: "kp-tenants", logger: logger)
  let migrator = TenantMigrator()
  let version = try configuration.integer("tenant-schema-version", in: 0...1_000_000)
  registry = TenantRegistry(
    clusters: clusters,
    directory: TenantDirectory.registry(
      clusters.registry, maximumStaleness: try DatabaseSettings.tenantCacheStaleness(configuration)
    ),
    migrator: migrator,
    schemaVersion: version == 0 ? migrator.latestVersion : version,
    provisioningTimeout: .seconds(
      try configuration.integer("provisioning-timeout-seconds", in: 1...86_400)),
    logger: logger)
} catch {
  FileHandle.standardError.write(Data("kp-tenants: \(error)\n".utf8))
  exit(ServiceCommand.usageExitStatus)
}

do {
  try await registry.prepare()
} catch {
  logger.error("could not prepare the tenant registry", ["error": "\(error)"])
  exit(1)
}

switch action {
case "migrate":
  // Progress is logged per tenant by the registry; the summary decides the exit status.
  do {
    let concurrency = try configuration.integer("migrate-concurrency", in: 1...64)
    let summary = try await registry.migrate(
      tenantIDs: [], version: 0, concurrency: concurrency
    ) { _ in }
    clusters.close()
    exit(summary.failedTenants == 0 ? 0 : 1)
  } catch {
    logger.error("migration failed", ["error": "\(error)"])
    exit(1)
  }
default:
  let status = await MeshService.run(
    service: "tenants", configuration: configuration,
    services: [TenantsService(registry: registry, logger: logger)], logger: logger)
  clusters.close()
  exit(status)
}
