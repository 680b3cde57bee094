// kp-auth: Users, password hashes, groups, roles, API keys and signing keys; issues and verifies
// tokens.
import Foundation
import KPServiceKit

let command = ServiceCommand(
  name: "kp-auth",
  summary:
    "Users, password hashes, groups, roles, API keys and signing keys; issues and "
    + "verifies tokens."
)
let configuration = command.parseOrExit()
let logger = configuration.makeLogger(label: command.name)

// This build answers --help and --version; the work that follows adds the rest.
logger.error("the server is not implemented yet", ["version": KPVersion.current])
exit(1)
