// kp-gateway: The only exposed service: external API, authentication, per-tenant limits.
import KPServiceKit

#if canImport(Glibc)
  import Glibc
#endif

let command = ServiceCommand(
  name: "kp-gateway",
  summary: "The only exposed service: external API, authentication, per-tenant limits.",
  settings: MeshService.settings(service: "gateway")
)
let configuration = command.parseOrExit()
let logger = configuration.makeLogger(label: command.name)

// The mesh server answers health checks and exports metrics; the service's own methods are
// added to the list below as they are built.
let status = await MeshService.run(
  service: "gateway", configuration: configuration, services: [], logger: logger)
exit(status)
