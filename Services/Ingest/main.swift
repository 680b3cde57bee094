// kp-ingest: The durable ingest pipeline: batches, normalising, chunking, deduplication.
import Foundation
import KPDatabase
import KPRPC
import KPServiceKit

let command = ServiceCommand(
  name: "kp-ingest",
  summary: "The durable ingest pipeline: batches, normalising, chunking, deduplication.",
  settings: MeshService.settings(service: "ingest") + DatabaseSettings.settings
    + IngestSettings.all
)
let configuration = command.parseOrExit()
let logger = configuration.makeLogger(label: command.name)
if let status = MeshService.checkSettings(
  service: "ingest", configuration: configuration, logger: logger)
{
  exit(status)
}

let service: IngestService
let worker: IngestWorker
let clusters: DatabaseClusters
let knowledge: RPCChannel
do {
  clusters = try DatabaseSettings.clusters(
    configuration, applicationName: "kp-ingest", logger: logger)
  let staleness = try DatabaseSettings.tenantCacheStaleness(configuration)
  let options = try IngestSettings.options(configuration)
  let endpoints = try configuration.string("knowledge-address").split(separator: ",").map {
    text throws(ConfigurationError) in
    guard let address = SocketAddress(text.trimmingCharacters(in: .whitespaces)) else {
      throw ConfigurationError(
        code: .invalidValue, message: "--knowledge-address '\(text)' is not host:port")
    }
    return address
  }
  var client = RPCClientConfiguration()
  client.defaultTimeout = options.knowledgeTimeout
  knowledge = RPCChannel(
    target: RPCTarget(
      endpoints: endpoints, expectedIdentity: MeshService.identity(of: "knowledge")),
    tls: try MeshService.tlsContext(service: "ingest", configuration: configuration, server: false),
    configuration: client, logger: logger)
  let databases = TenantDatabases(
    clusters: clusters,
    directory: TenantDirectory.registry(clusters.registry, maximumStaleness: staleness))
  let index = PendingJobIndex(pool: clusters.registry)
  let wakeups = WakeSignal()
  service = IngestService(
    databases: databases, index: index, options: options, wakeups: wakeups, logger: logger)
  worker = IngestWorker(
    databases: databases, index: index, knowledge: knowledge, options: options,
    preparer: try DocumentPreparer(options: options), wakeups: wakeups, logger: logger)
} catch {
  FileHandle.standardError.write(Data("kp-ingest: \(error)\n".utf8))
  exit(ServiceCommand.usageExitStatus)
}

let workers = Task { await worker.run() }
let status = await MeshService.run(
  service: "ingest", configuration: configuration, services: [service], logger: logger)
workers.cancel()
await workers.value
knowledge.close()
clusters.close()
exit(status)
