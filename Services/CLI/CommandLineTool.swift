import Foundation
import KPServiceKit

/// Finds the command the words name, parses its options (flags, environment, configuration
/// file), runs it, and turns every failure into one line on standard error and an exit
/// status: 0 done, 1 failed, 2 a command line that cannot be used.
struct CommandLineTool {
  let commands: [Subcommand]

  /// The overview `kp --help` prints.
  var overview: String {
    var lines = [
      "kp \(KPVersion.current)",
      "The KnowledgePlane command-line tool for operators and users.",
      "",
      "Usage: kp <command> [options] [arguments]",
      "",
      "Commands:",
    ]
    let width = commands.map { $0.words.joined(separator: " ").count }.max() ?? 0
    for command in commands {
      let words = command.words.joined(separator: " ")
      var summary = command.summary.split(separator: ".").first.map(String.init) ?? ""
      let room = 96 - width - 4
      if summary.count > room {
        summary = String(summary.prefix(room - 1)) + "…"
      }
      lines.append("  " + words.padding(toLength: width + 2, withPad: " ", startingAt: 0) + summary)
    }
    lines += [
      "",
      "Run 'kp <command> --help' for a command's options. Every option can also be set with",
      "its KP_ environment variable or in a 'name = value' file given by --config (default:",
      "\(ClientSettings.defaultConfigPath) when it exists). The file may hold any option",
      "of any command; a command ignores the ones it does not take.",
    ]
    return lines.joined(separator: "\n")
  }

  /// Runs the command line; returns the exit status.
  func main(_ arguments: [String]) async -> Int32 {
    if arguments.isEmpty || arguments == ["--help"] || arguments == ["-h"] || arguments == ["help"]
    {
      print(overview)
      return arguments.isEmpty ? ServiceCommand.usageExitStatus : 0
    }
    if arguments == ["--version"] {
      print("kp \(KPVersion.current)")
      return 0
    }

    // The longest run of leading words that names a command.
    let matched = commands.filter { Array(arguments.prefix($0.words.count)) == $0.words }
      .max { $0.words.count < $1.words.count }
    guard let subcommand = matched else {
      return unknown(arguments)
    }
    var rest = Array(arguments.dropFirst(subcommand.words.count))
    let environment = ProcessInfo.processInfo.environment
    if !rest.contains(where: { $0 == "--config" || $0.hasPrefix("--config=") }),
      environment[Setting.config.environmentKey] == nil,
      FileManager.default.fileExists(atPath: ClientSettings.defaultConfigPath)
    {
      rest = ["--config", ClientSettings.defaultConfigPath] + rest
    }

    let configuration: ServiceConfiguration
    do {
      let loadFile = { (path: String) throws(ConfigurationError) -> ConfigurationFile in
        try shared(path, for: subcommand)
      }
      switch try subcommand.command.parse(rest, environment: environment, loadFile: loadFile) {
      case .help:
        print(subcommand.helpText)
        return 0
      case .version:
        print("kp \(KPVersion.current)")
        return 0
      case .run(let parsed):
        configuration = parsed
      }
    } catch {
      Output.note("\(subcommand.name): \(error.message)")
      return ServiceCommand.usageExitStatus
    }

    do {
      return try await subcommand.run(configuration)
    } catch let error as CLIError {
      Output.note("\(subcommand.name): \(error.message)")
      return error.exitStatus
    } catch let error as ConfigurationError {
      Output.note("\(subcommand.name): \(error.message)")
      return ServiceCommand.usageExitStatus
    } catch {
      Output.note("\(subcommand.name): \(error)")
      return 1
    }
  }

  /// Reads a configuration file shared by every command: a setting any command takes is
  /// accepted, and left out for the commands that do not take it; a name no command takes is
  /// an error naming its line.
  private func shared(_ path: String, for subcommand: Subcommand) throws(ConfigurationError)
    -> ConfigurationFile
  {
    let file = try ConfigurationFile.load(path: path)
    let known = Set(commands.flatMap { $0.command.settings.map(\.name) })
    let own = Set(subcommand.command.settings.map(\.name))
    for (key, line) in file.lines.sorted(by: { $0.value < $1.value }) where !known.contains(key) {
      throw ConfigurationError(
        code: .malformedFile,
        message: "\(path):\(line): unknown setting '\(key)': no kp command takes it; 'kp "
          + "<command> --help' lists each command's options")
    }
    let foreign = Set(file.lines.filter { !own.contains($0.key) }.map(\.value))
    guard !foreign.isEmpty else { return file }

    // The same text with the other commands' lines blanked, so line numbers stay right.
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    let kept = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
      .map { foreign.contains($0.offset + 1) ? "" : String($0.element) }
    return try ConfigurationFile(parsing: kept.joined(separator: "\n"), path: path)
  }

  private func unknown(_ arguments: [String]) -> Int32 {
    let first = arguments[0]
    let group = commands.filter { $0.words.first == first && $0.words.count > 1 }
    if !group.isEmpty {
      let actions = group.map { $0.words[1] }.joined(separator: ", ")
      if arguments.count == 1 || arguments[1] == "--help" || arguments[1] == "-h" {
        print("kp \(first) <action> [options]; the actions are: \(actions)")
        for command in group {
          print("  kp \(command.words.joined(separator: " ")): \(command.summary)")
        }
        return arguments.count == 1 ? ServiceCommand.usageExitStatus : 0
      }
      Output.note("kp \(first): unknown action '\(arguments[1])'; the actions are: \(actions)")
      return ServiceCommand.usageExitStatus
    }
    Output.note("kp: unknown command '\(first)'; run 'kp --help' for the commands")
    return ServiceCommand.usageExitStatus
  }
}
