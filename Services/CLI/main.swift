// kp: The KnowledgePlane command-line tool for operators and users.
import Foundation
import KPServiceKit
import KPTLS

// A gateway that closes the connection while a request is being written must be an error
// reported like any other, not a SIGPIPE that ends kp without a word.
TLSRuntime.ignoreSIGPIPE()

let commands: [Subcommand] =
  MeshCommands.all + TenantCommands.all + UserCommands.all + KeyCommands.all
  + SessionCommands.all + [IngestCommand.subcommand] + SearchCommands.all

exit(await CommandLineTool(commands: commands).main(Array(CommandLine.arguments.dropFirst())))
