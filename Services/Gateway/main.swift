// kp-gateway: The only exposed service: external API, authentication, per-tenant limits.
import Foundation
import KPServiceKit
import KPTLS

let command = ServiceCommand(
  name: "kp-gateway",
  summary: "The only exposed service: the HTTPS REST API (--https-address), the external RPC "
    + "port (--listen-address), authentication, per-tenant limits and fair queueing.",
  settings: GatewaySettings.mesh + GatewaySettings.all)
let configuration = command.parseOrExit()
let logger = configuration.makeLogger(label: command.name)
TLSRuntime.ignoreSIGPIPE()

let server: GatewayServer
do {
  server = try GatewayServer.start(configuration: configuration, logger: logger)
} catch let error as ConfigurationError {
  logger.error("invalid configuration", ["error": error.message])
  exit(ServiceCommand.usageExitStatus)
} catch {
  logger.error("start-up failed", ["error": "\(error)"])
  exit(1)
}

logger.notice(
  "serving",
  [
    "identity": MeshService.identity(of: "gateway"), "rpc_port": "\(server.rpc.port)",
    "https_port": "\(server.http.port)", "metrics_port": "\(server.admin.port)",
    "version": KPVersion.current,
  ])

let stopped = AsyncStream<Int32>.makeStream()
let signals = ShutdownSignalHandler.install { signal in
  stopped.continuation.yield(signal)
}
for await signal in stopped.stream {
  logger.notice("draining", ["signal": "\(signal)"])
  break
}
let grace = (try? configuration.integer("shutdown-grace-seconds", in: 0...3600)) ?? 10
await server.shutdown(grace: .seconds(grace))
signals.cancel()
logger.notice("stopped", [:])
exit(0)
