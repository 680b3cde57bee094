// kp: The KnowledgePlane command-line tool for operators and users.
import Foundation
import KPServiceKit

let command = ServiceCommand(
  name: "kp",
  summary: "The KnowledgePlane command-line tool for operators and users. Commands: "
    + "'status' asks every service of the local mesh for its health over mutual TLS "
    + "(exit 0 when all serve, 1 otherwise).",
  settings: [
    Setting(
      "certs-dir", help: "Directory with ca.pem, cli.pem and cli.key.", valueName: "path",
      default: ".kp/certs"),
    Setting(
      "host", help: "The host the mesh services listen on.", valueName: "host",
      default: "127.0.0.1"),
    Setting(
      "addresses",
      help: "Which services 'status' asks and where, as service=host:port,... "
        + "(default: every service at its default port on --host).",
      valueName: "list", default: ""),
  ],
  argumentsUsage: "<command>"
)
let configuration = command.parseOrExit()
let logger = configuration.makeLogger(label: command.name)

switch configuration.arguments.first {
case "status":
  guard configuration.arguments.count == 1 else {
    FileHandle.standardError.write(Data("kp: 'status' takes no arguments\n".utf8))
    exit(ServiceCommand.usageExitStatus)
  }
  do {
    let rows = try await StatusCommand(configuration: configuration).run()
    print(StatusCommand.table(rows))
    exit(rows.allSatisfy(\.healthy) ? 0 : 1)
  } catch let error as ConfigurationError {
    FileHandle.standardError.write(Data("kp: \(error.message)\n".utf8))
    exit(ServiceCommand.usageExitStatus)
  } catch {
    FileHandle.standardError.write(Data("kp: \(error)\n".utf8))
    exit(1)
  }
case nil:
  FileHandle.standardError.write(Data("kp: a command is required; try 'kp --help'\n".utf8))
  exit(ServiceCommand.usageExitStatus)
case let other?:
  FileHandle.standardError.write(
    Data("kp: unknown command '\(other)'; the commands are: status\n".utf8))
  exit(ServiceCommand.usageExitStatus)
}
