// kp: The KnowledgePlane command-line tool for operators and users.
import Foundation
import KPServiceKit

let command = ServiceCommand(
  name: "kp",
  summary: "The KnowledgePlane command-line tool for operators and users.",
  argumentsUsage: "<command> [arguments...]"
)
let configuration = command.parseOrExit()
let logger = configuration.makeLogger(label: command.name)

// This build answers --help and --version; the work that follows adds the rest.
logger.error("no commands are implemented yet", ["version": KPVersion.current])
exit(1)
