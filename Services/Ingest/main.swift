// kp-ingest: The durable ingest pipeline: batches, normalising, chunking, deduplication.
import KPServiceKit

#if canImport(Glibc)
  import Glibc
#endif

let command = ServiceCommand(
  name: "kp-ingest",
  summary: "The durable ingest pipeline: batches, normalising, chunking, deduplication.",
  settings: MeshService.settings(service: "ingest")
)
let configuration = command.parseOrExit()
let logger = configuration.makeLogger(label: command.name)

// The mesh server answers health checks and exports metrics; the service's own methods are
// added to the list below as they are built.
let status = await MeshService.run(
  service: "ingest", configuration: configuration, services: [], logger: logger)
exit(status)
