/// One configurable setting of an executable, such as its listen address.
///
/// A setting named `listen-address` can be given, from highest to lowest precedence, as the flag
/// `--listen-address <value>` (or `--listen-address=<value>`), the environment variable
/// `KP_LISTEN_ADDRESS`, the line `listen-address = <value>` in the configuration file, or else
/// takes its default.
public struct Setting: Sendable, Hashable {
  /// The setting's name: lowercase letters, digits and dashes, such as `listen-address`.
  public let name: String

  /// One sentence saying what the setting does, shown by `--help`.
  public let help: String

  /// What the value looks like in `--help`, such as `host:port`.
  public let valueName: String

  /// The value used when no source gives one, or `nil` when the setting has no default.
  public let defaultValue: String?

  /// Whether the setting is an on/off switch: `--name` alone means `true`.
  public let isSwitch: Bool

  /// Creates a setting that takes a value.
  ///
  /// - Parameters:
  ///   - name: Lowercase letters, digits and dashes, such as `listen-address`.
  ///   - help: One sentence saying what the setting does.
  ///   - valueName: What the value looks like in `--help`. Default: `value`.
  ///   - defaultValue: The value when no source gives one. Default: none.
  public init(
    _ name: String, help: String, valueName: String = "value", default defaultValue: String? = nil
  ) {
    precondition(Self.isValidName(name), "setting names use a-z, 0-9 and '-': \(name)")
    self.name = name
    self.help = help
    self.valueName = valueName
    self.defaultValue = defaultValue
    self.isSwitch = false
  }

  private init(switchNamed name: String, help: String) {
    precondition(Self.isValidName(name), "setting names use a-z, 0-9 and '-': \(name)")
    self.name = name
    self.help = help
    self.valueName = "bool"
    self.defaultValue = "false"
    self.isSwitch = true
  }

  /// Creates an on/off setting, off by default. `--name` alone turns it on; the environment and
  /// the configuration file take `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
  ///
  /// - Parameters:
  ///   - name: Lowercase letters, digits and dashes.
  ///   - help: One sentence saying what the switch does.
  /// - Returns: The setting.
  public static func `switch`(_ name: String, help: String) -> Setting {
    Setting(switchNamed: name, help: help)
  }

  /// The flag: `--` followed by the name.
  public var flag: String { "--" + name }

  /// The environment variable: `KP_` followed by the name in capitals with `_` for `-`.
  public var environmentKey: String {
    "KP_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 })
  }

  // MARK: - Settings every executable has

  /// `--config <path>`: a configuration file of `key = value` lines. No default.
  public static let config = Setting(
    "config", help: "Read settings from this file of 'key = value' lines.", valueName: "path")

  /// `--log-level <level>`: the minimum level logged. Default `info`.
  public static let logLevel = Setting(
    "log-level",
    help: "Log events at this level and above: trace, debug, info, notice, warning, error, "
      + "critical.",
    valueName: "level", default: "info")

  /// `--log-format <format>`: `text` for people, `json` for log collectors. Default `text`.
  public static let logFormat = Setting(
    "log-format", help: "Write log lines as text (readable) or json (for collectors).",
    valueName: "format", default: "text")

  /// The settings every executable accepts, in the order `--help` lists them.
  public static let common: [Setting] = [.config, .logLevel, .logFormat]

  private static func isValidName(_ name: String) -> Bool {
    !name.isEmpty && name.first != "-" && name.last != "-"
      && name.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
      }
  }
}
