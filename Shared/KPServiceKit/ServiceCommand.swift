import Foundation
import KPLogging

/// What a command line asks an executable to do.
public enum CommandLineRequest: Sendable {
  /// Run with this configuration.
  case run(ServiceConfiguration)
  /// Print the usage text and exit successfully.
  case help
  /// Print the version and exit successfully.
  case version
}

/// An executable's command-line interface: its name, one-line summary and settings.
///
/// Every KnowledgePlane executable answers `--help` (usage, options, environment variables)
/// and `--version` (`kp-auth 0.1.0`), and rejects an unknown flag with a clear message and exit
/// status 2. Settings resolve as described in ``Setting``; every executable also has the
/// ``Setting/common`` settings (`--config`, `--log-level`, `--log-format`).
///
/// ```swift
/// let command = ServiceCommand(name: "kp-auth", summary: "Users, keys and tokens.")
/// let configuration = command.parseOrExit()
/// ```
public struct ServiceCommand: Sendable {
  /// Exit status for a command line that cannot be used: 2, as for a shell builtin misused.
  public static let usageExitStatus: Int32 = 2

  /// The executable's name, such as `kp-auth`.
  public let name: String

  /// One line saying what the executable is.
  public let summary: String

  /// The executable's own settings followed by the common ones.
  public let settings: [Setting]

  /// How positional arguments look in `--help` (such as `<command> [arguments…]`), or `nil` when
  /// the executable takes none.
  public let argumentsUsage: String?

  /// Creates a command-line interface.
  ///
  /// - Parameters:
  ///   - name: The executable's name.
  ///   - summary: One line saying what the executable is.
  ///   - settings: The executable's own settings; the common ones are added after them.
  ///   - argumentsUsage: How positional arguments look, or `nil` when there are none.
  public init(
    name: String,
    summary: String,
    settings: [Setting] = [],
    argumentsUsage: String? = nil
  ) {
    var all = settings
    for setting in Setting.common where !all.contains(where: { $0.name == setting.name }) {
      all.append(setting)
    }
    precondition(Set(all.map(\.name)).count == all.count, "duplicate setting names in \(name)")
    self.name = name
    self.summary = summary
    self.settings = all
    self.argumentsUsage = argumentsUsage
  }

  /// The answer to `--version`: the name and ``KPVersion/current``, such as `kp-auth 0.1.0`.
  public var versionText: String {
    "\(name) \(KPVersion.current)"
  }

  /// The answer to `--help`: usage, options with their defaults and environment variables, and
  /// how settings combine.
  public var helpText: String {
    var lines: [String] = []
    lines.append(versionText)
    lines.append(contentsOf: Self.wrap(summary, indent: ""))
    lines.append("")
    lines.append("Usage: \(name) [options]" + (argumentsUsage.map { " \($0)" } ?? ""))
    lines.append("")
    lines.append("Options:")
    for setting in settings {
      let value = setting.isSwitch ? "" : " <\(setting.valueName)>"
      lines.append("  \(setting.flag)\(value)")
      lines.append(contentsOf: Self.wrap(setting.help, indent: "      "))
      var facts = ["Environment: \(setting.environmentKey)."]
      if let defaultValue = setting.defaultValue {
        facts.insert("Default: \(defaultValue.isEmpty ? "(empty)" : defaultValue).", at: 0)
      }
      lines.append(contentsOf: Self.wrap(facts.joined(separator: " "), indent: "      "))
    }
    lines.append("  -h, --help")
    lines.append("      Show this help and exit.")
    lines.append("  --version")
    lines.append("      Show the version and exit.")
    lines.append("")
    lines.append("Settings:")
    lines.append("  Each option can also be set with its environment variable or as a")
    lines.append("  'name = value' line in the --config file. A flag wins over the environment,")
    lines.append("  the environment over the file, and the file over the default.")
    return lines.joined(separator: "\n")
  }

  /// Reads a command line, the environment and the configuration file it names.
  ///
  /// `--help` or `--version` anywhere before `--` wins over everything else.
  ///
  /// - Parameters:
  ///   - arguments: The arguments after the executable's name.
  ///   - environment: The environment variables.
  ///   - loadFile: Reads the configuration file at a path.
  ///     Default: ``ConfigurationFile/load(path:)``.
  /// - Returns: What the command line asks for.
  /// - Throws: ``ConfigurationError`` naming the flag, variable or file line that is wrong.
  public func parse(
    _ arguments: [String],
    environment: [String: String],
    loadFile: (String) throws(ConfigurationError) -> ConfigurationFile = ConfigurationFile.load
  ) throws(ConfigurationError) -> CommandLineRequest {
    let options = arguments.prefix { $0 != "--" }
    if options.contains(where: { $0 == "--help" || $0 == "-h" }) { return .help }
    if options.contains("--version") { return .version }

    // Command line.
    var fromFlags: [String: String] = [:]
    var positional: [String] = []
    var index = arguments.startIndex
    while index < arguments.endIndex {
      let argument = arguments[index]
      index += 1
      if argument == "--" {
        positional.append(contentsOf: arguments[index...])
        break
      }
      guard argument.hasPrefix("-"), argument != "-" else {
        positional.append(argument)
        continue
      }
      let (flag, inlineValue) = Self.split(argument)
      guard let setting = settings.first(where: { $0.flag == flag }) else {
        throw ConfigurationError(
          code: .unknownOption,
          message: "unknown option '\(flag)'; run '\(name) --help' for the options")
      }
      if let inlineValue {
        fromFlags[setting.name] = inlineValue
      } else if setting.isSwitch {
        fromFlags[setting.name] = "true"
      } else if index < arguments.endIndex {
        fromFlags[setting.name] = arguments[index]
        index += 1
      } else {
        throw ConfigurationError(
          code: .missingValue,
          message: "option '\(flag)' needs a value: \(flag) <\(setting.valueName)>")
      }
    }
    if argumentsUsage == nil, let first = positional.first {
      throw ConfigurationError(
        code: .unexpectedArgument,
        message: "unexpected argument '\(first)': \(name) takes options only; run "
          + "'\(name) --help'")
    }

    // Configuration file, named by flag or environment.
    var file: ConfigurationFile?
    let configName = Setting.config.name
    if let path = fromFlags[configName] ?? environment[Setting.config.environmentKey],
      !path.isEmpty
    {
      let loaded = try loadFile(path)
      for (key, line) in loaded.lines.sorted(by: { $0.value < $1.value }) {
        guard key != configName, settings.contains(where: { $0.name == key }) else {
          throw ConfigurationError(
            code: .malformedFile,
            message: "\(path):\(line): unknown setting '\(key)'; run '\(name) --help' for the "
              + "settings")
        }
      }
      file = loaded
    }

    // Resolve each setting, then check the values whose shape the kit knows.
    var values: [String: (value: String, source: ServiceConfiguration.Source)] = [:]
    for setting in settings {
      if let value = fromFlags[setting.name] {
        values[setting.name] = (value, .flag)
      } else if let value = environment[setting.environmentKey] {
        values[setting.name] = (value, .environment)
      } else if let file, let value = file.values[setting.name] {
        values[setting.name] = (value, .file(file.path))
      } else if let value = setting.defaultValue {
        values[setting.name] = (value, .defaultValue)
      }
    }
    let configuration = ServiceConfiguration(
      settings: settings, values: values, arguments: positional)
    try validate(configuration)
    return .run(configuration)
  }

  /// Parses the process's command line and environment. Prints help or the version and exits 0
  /// when asked; prints the problem and exits with ``usageExitStatus`` when the command line,
  /// environment or configuration file cannot be used.
  ///
  /// - Returns: The configuration to run with.
  public func parseOrExit() -> ServiceConfiguration {
    let arguments = Array(CommandLine.arguments.dropFirst())
    do {
      switch try parse(arguments, environment: ProcessInfo.processInfo.environment) {
      case .help:
        print(helpText)
        exit(0)
      case .version:
        print(versionText)
        exit(0)
      case .run(let configuration):
        return configuration
      }
    } catch {
      FileHandle.standardError.write(Data("\(name): \(error.message)\n".utf8))
      exit(Self.usageExitStatus)
    }
  }

  private func validate(_ configuration: ServiceConfiguration) throws(ConfigurationError) {
    for setting in settings {
      guard let text = configuration.value(setting.name),
        let source = configuration.source(of: setting.name)
      else { continue }
      let expected: String?
      if setting.isSwitch {
        expected = ServiceConfiguration.boolean(text) == nil ? "true or false" : nil
      } else if setting.name == Setting.logLevel.name {
        let levels = LogLevel.allCases.map(\.description).joined(separator: ", ")
        expected = LogLevel(name: text) == nil ? "one of \(levels)" : nil
      } else if setting.name == Setting.logFormat.name {
        expected = LogFormat(name: text) == nil ? "text or json" : nil
      } else {
        expected = nil
      }
      if let expected {
        throw ConfigurationError(
          code: .invalidValue,
          message: "setting '\(setting.name)' is '\(text)' (from \(source)); expected \(expected)")
      }
    }
  }

  /// Breaks text into lines of at most 80 columns (longer words stay whole), each indented.
  private static func wrap(_ text: String, indent: String) -> [String] {
    var lines: [String] = []
    var current = indent
    for word in text.split(separator: " ") {
      if current.count > indent.count && current.count + 1 + word.count > 80 {
        lines.append(current)
        current = indent
      }
      current += (current.count > indent.count ? " " : "") + word
    }
    lines.append(current)
    return lines
  }

  /// Splits `--name=value` into its flag and value.
  private static func split(_ argument: String) -> (flag: String, value: String?) {
    guard let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
    return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
  }
}
