// kp: The KnowledgePlane command-line tool for operators and users.
import Foundation
import KPServiceKit

let commands: [Subcommand] =
  MeshCommands.all + TenantCommands.all + UserCommands.all + KeyCommands.all
  + SessionCommands.all + [IngestCommand.subcommand] + SearchCommands.all

exit(await CommandLineTool(commands: commands).main(Array(CommandLine.arguments.dropFirst())))
