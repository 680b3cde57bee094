public import KPLogging

/// The settings an executable was started with, each resolved from the command line, the
/// environment, the configuration file or its default, in that order of precedence.
public struct ServiceConfiguration: Sendable {
  /// Where a setting's value came from.
  public enum Source: Sendable, Hashable, CustomStringConvertible {
    /// A command-line flag.
    case flag
    /// A `KP_*` environment variable.
    case environment
    /// The configuration file at this path.
    case file(String)
    /// The setting's documented default.
    case defaultValue

    /// A short description such as `flag` or `file /etc/kp/auth.conf`.
    public var description: String {
      switch self {
      case .flag: "flag"
      case .environment: "environment"
      case .file(let path): "file \(path)"
      case .defaultValue: "default"
      }
    }
  }

  /// The settings the executable declares, in declaration order.
  public let settings: [Setting]

  /// Positional arguments, for executables that take them (such as the `kp` tool).
  public let arguments: [String]

  private let resolved: [String: (value: String, source: Source)]

  /// Creates a configuration from values already resolved; tests and embedding code use it.
  ///
  /// - Parameters:
  ///   - settings: The declared settings.
  ///   - values: Values and their sources, keyed by setting name.
  ///   - arguments: Positional arguments.
  public init(
    settings: [Setting],
    values: [String: (value: String, source: Source)],
    arguments: [String] = []
  ) {
    self.settings = settings
    self.resolved = values
    self.arguments = arguments
  }

  /// A setting's value, or `nil` when no source gave one and it has no default.
  ///
  /// - Parameter name: The setting's name, such as `listen-address`.
  public func value(_ name: String) -> String? {
    resolved[name]?.value
  }

  /// Where a setting's value came from, or `nil` when it has none.
  ///
  /// - Parameter name: The setting's name.
  public func source(of name: String) -> Source? {
    resolved[name]?.source
  }

  /// A setting's value, which must be present.
  ///
  /// - Parameter name: The setting's name.
  /// - Returns: The value.
  /// - Throws: ``ConfigurationError`` with code `missingSetting`, saying how to provide it.
  public func string(_ name: String) throws(ConfigurationError) -> String {
    guard let value = value(name) else {
      let setting = settings.first { $0.name == name }
      let key = setting?.environmentKey ?? "KP_\(name.uppercased())"
      throw ConfigurationError(
        code: .missingSetting,
        message: "setting '\(name)' has no value: pass --\(name), set \(key), or add "
          + "'\(name) = …' to the configuration file")
    }
    return value
  }

  /// A setting's value as a whole number, which must be present and within bounds.
  ///
  /// - Parameters:
  ///   - name: The setting's name.
  ///   - range: The accepted values. Default: any `Int`.
  /// - Returns: The number.
  /// - Throws: ``ConfigurationError`` with code `missingSetting` or `invalidValue`.
  public func integer(
    _ name: String,
    in range: ClosedRange<Int> = Int.min...Int.max
  ) throws(ConfigurationError) -> Int {
    let text = try string(name)
    guard let number = Int(text), range.contains(number) else {
      throw invalid(
        name, text, expected: "a whole number from \(range.lowerBound) to \(range.upperBound)")
    }
    return number
  }

  /// A switch's value: `true`, `1`, `yes` and `on` are on; `false`, `0`, `no`, `off` and an absent
  /// value are off.
  ///
  /// - Parameter name: The setting's name.
  /// - Returns: Whether the switch is on.
  /// - Throws: ``ConfigurationError`` with code `invalidValue` for any other text.
  public func isOn(_ name: String) throws(ConfigurationError) -> Bool {
    guard let text = value(name) else { return false }
    guard let value = Self.boolean(text) else {
      throw invalid(name, text, expected: "true or false")
    }
    return value
  }

  /// The minimum log level from `--log-level` / `KP_LOG_LEVEL` (default `info`).
  public var logLevel: LogLevel {
    value(Setting.logLevel.name).flatMap(LogLevel.init(name:)) ?? .info
  }

  /// The log format from `--log-format` / `KP_LOG_FORMAT` (default `text`).
  public var logFormat: LogFormat {
    value(Setting.logFormat.name).flatMap(LogFormat.init(name:)) ?? .text
  }

  /// A logger with this configuration's level and format.
  ///
  /// - Parameters:
  ///   - label: Names the component that logs, usually the executable's name.
  ///   - writer: Where lines go. Default: standard error.
  /// - Returns: The logger.
  public func makeLogger(label: String, writer: LogWriter = .standardError) -> Logger {
    Logger(label: label, level: logLevel, format: logFormat, writer: writer)
  }

  static func boolean(_ text: String) -> Bool? {
    switch text.lowercased() {
    case "true", "1", "yes", "on": true
    case "false", "0", "no", "off": false
    default: nil
    }
  }

  private func invalid(_ name: String, _ text: String, expected: String) -> ConfigurationError {
    let origin = source(of: name).map { " (from \($0))" } ?? ""
    return ConfigurationError(
      code: .invalidValue,
      message: "setting '\(name)' is '\(text)'\(origin); expected \(expected)")
  }
}
