// kp-load: Drives the gateway with a bounded, reproducible load and reports latency percentiles.
import Foundation
import KPServiceKit

let command = ServiceCommand(
  name: "kp-load",
  summary: "Drives the gateway with a bounded, reproducible load and reports latency percentiles."
)
let configuration = command.parseOrExit()
let logger = configuration.makeLogger(label: command.name)

// This build answers --help and --version; the work that follows adds the rest.
logger.error("load generation is not implemented yet", ["version": KPVersion.current])
exit(1)
