// kp-knowledge: Documents, versions, chunks, access lists and search.
import Foundation
import KPDatabase
import KPServiceKit

let command = ServiceCommand(
  name: "kp-knowledge",
  summary: "Documents, versions, chunks, access lists and search.",
  settings: MeshService.settings(service: "knowledge") + DatabaseSettings.settings
)
let configuration = command.parseOrExit()
let logger = configuration.makeLogger(label: command.name)
if let status = MeshService.checkSettings(
  service: "knowledge", configuration: configuration, logger: logger)
{
  exit(status)
}

let service: KnowledgeService
let clusters: DatabaseClusters
do {
  clusters = try DatabaseSettings.clusters(
    configuration, applicationName: "kp-knowledge", logger: logger)
  let staleness = try DatabaseSettings.tenantCacheStaleness(configuration)
  service = KnowledgeService(
    databases: TenantDatabases(
      clusters: clusters,
      directory: TenantDirectory.registry(clusters.registry, maximumStaleness: staleness)),
    logger: logger)
} catch {
  FileHandle.standardError.write(Data("kp-knowledge: \(error)\n".utf8))
  exit(ServiceCommand.usageExitStatus)
}

let status = await MeshService.run(
  service: "knowledge", configuration: configuration, services: [service], logger: logger)
clusters.close()
exit(status)
