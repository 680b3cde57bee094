// kp-knowledge: Documents, versions, chunks, access lists and search.
import KPServiceKit

#if canImport(Glibc)
  import Glibc
#endif

let command = ServiceCommand(
  name: "kp-knowledge",
  summary: "Documents, versions, chunks, access lists and search.",
  settings: MeshService.settings(service: "knowledge")
)
let configuration = command.parseOrExit()
let logger = configuration.makeLogger(label: command.name)

// The mesh server answers health checks and exports metrics; the service's own methods are
// added to the list below as they are built.
let status = await MeshService.run(
  service: "knowledge", configuration: configuration, services: [], logger: logger)
exit(status)
