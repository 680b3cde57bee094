// kp-agent: The customer-run integration agent: reads the customer's sources and pushes changes
// through an outbound tunnel.
import Foundation
import KPServiceKit

let command = ServiceCommand(
  name: "kp-agent",
  summary:
    "The customer-run integration agent: reads the customer's sources and pushes "
    + "changes through an outbound tunnel."
)
let configuration = command.parseOrExit()
let logger = configuration.makeLogger(label: command.name)

// This build answers --help and --version; the work that follows adds the rest.
logger.error("the tunnel to the gateway is not implemented yet", ["version": KPVersion.current])
exit(1)
