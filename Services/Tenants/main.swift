// kp-tenants: The tenant registry: tenants, plans and quotas, schema provisioning and migrations.
import Foundation
import KPServiceKit

let command = ServiceCommand(
  name: "kp-tenants",
  summary: "The tenant registry: tenants, plans and quotas, schema provisioning and migrations."
)
let configuration = command.parseOrExit()
let logger = configuration.makeLogger(label: command.name)

// This build answers --help and --version; the work that follows adds the rest.
logger.error("the server is not implemented yet", ["version": KPVersion.current])
exit(1)
