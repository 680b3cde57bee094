import KPServiceKit

/// One `kp` command, such as `kp tenants create`: its words, summary, settings, and what it
/// does with the configuration they resolve to.
struct Subcommand: Sendable {
  /// The words after `kp`, such as `["tenants", "create"]`.
  var words: [String]
  /// One line saying what the command does.
  var summary: String
  /// The command's own settings; commands that call the gateway add ``ClientSettings/all``.
  var settings: [Setting]
  /// How the positional arguments look in `--help`, or `nil` when there are none.
  var argumentsUsage: String?
  /// Text printed at the end of `--help`, such as what the exit status means.
  var notes: String?
  /// Runs the command; returns the exit status.
  var run: @Sendable (ServiceConfiguration) async throws -> Int32

  /// The command's name as typed, such as `kp tenants create`.
  var name: String { (["kp"] + words).joined(separator: " ") }

  /// Makes a command.
  init(
    words: [String], summary: String, settings: [Setting], argumentsUsage: String? = nil,
    notes: String? = nil, run: @escaping @Sendable (ServiceConfiguration) async throws -> Int32
  ) {
    self.words = words
    self.summary = summary
    self.settings = settings
    self.argumentsUsage = argumentsUsage
    self.notes = notes
    self.run = run
  }

  /// The answer to `--help`: the options, then the notes.
  var helpText: String {
    guard let notes else { return command.helpText }
    return command.helpText + "\n\n" + SearchCommands.wrap(notes, width: 78).joined(separator: "\n")
  }

  /// The command-line interface that parses this command's options.
  var command: ServiceCommand {
    ServiceCommand(
      name: name, summary: summary, settings: settings, argumentsUsage: argumentsUsage)
  }

  /// The single positional argument, or a usage error naming what is missing.
  static func single(_ configuration: ServiceConfiguration, _ what: String) throws -> String {
    guard configuration.arguments.count == 1, let value = configuration.arguments.first,
      !value.isEmpty
    else {
      throw CLIError.usage(
        configuration.arguments.isEmpty
          ? "\(what) is required" : "expected one \(what), got \(configuration.arguments.count)")
    }
    return value
  }

  /// A setting's value, or a usage error naming the flag when it is missing or empty.
  static func required(_ configuration: ServiceConfiguration, _ name: String) throws -> String {
    guard let value = configuration.value(name), !value.isEmpty else {
      throw CLIError.usage("--\(name) is required")
    }
    return value
  }

  /// A comma-separated list setting's items, trimmed, empty ones dropped.
  static func list(_ configuration: ServiceConfiguration, _ name: String) -> [String]? {
    guard let value = configuration.value(name) else { return nil }
    return value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
  }
}
