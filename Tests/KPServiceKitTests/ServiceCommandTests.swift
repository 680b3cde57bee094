import KPLogging
import KPServiceKit
import Testing

@Suite("ServiceCommand parsing")
struct ServiceCommandTests {
  let command = ServiceCommand(
    name: "kp-test",
    summary: "A service used by the tests.",
    settings: [
      Setting(
        "listen-address", help: "Where to listen.", valueName: "host:port",
        default: "127.0.0.1:7000"),
      Setting("database-url", help: "The database."),
      .switch("dry-run", help: "Change nothing."),
    ])

  /// Parses and expects a configuration to run with.
  func run(
    _ arguments: [String],
    environment: [String: String] = [:],
    file: String? = nil
  ) throws -> ServiceConfiguration {
    let request = try command.parse(arguments, environment: environment) {
      (path: String) throws(ConfigurationError) -> ConfigurationFile in
      try ConfigurationFile(parsing: file ?? "", path: path)
    }
    guard case .run(let configuration) = request else {
      Issue.record("expected a configuration, got \(request)")
      throw ConfigurationError(code: .invalidValue, message: "not a run request")
    }
    return configuration
  }

  @Test(
    "a flag wins over the environment, the environment over the file, the file over the default")
  func precedence() throws {
    let file = "listen-address = file:1\n"
    let environment = ["KP_LISTEN_ADDRESS": "env:1", "KP_CONFIG": "/etc/kp.conf"]

    let fromFlag = try run(["--listen-address", "flag:1"], environment: environment, file: file)
    #expect(fromFlag.value("listen-address") == "flag:1")
    #expect(fromFlag.source(of: "listen-address") == .flag)

    let fromEnvironment = try run([], environment: environment, file: file)
    #expect(fromEnvironment.value("listen-address") == "env:1")
    #expect(fromEnvironment.source(of: "listen-address") == .environment)

    let fromFile = try run([], environment: ["KP_CONFIG": "/etc/kp.conf"], file: file)
    #expect(fromFile.value("listen-address") == "file:1")
    #expect(fromFile.source(of: "listen-address") == .file("/etc/kp.conf"))

    let fromDefault = try run([])
    #expect(fromDefault.value("listen-address") == "127.0.0.1:7000")
    #expect(fromDefault.source(of: "listen-address") == .defaultValue)
  }

  @Test("--config on the command line names the file")
  func configFlag() throws {
    let configuration = try run(
      ["--config=/tmp/kp.conf"], file: "database_url = \"postgresql://x\"  # the database\n")
    #expect(configuration.value("database-url") == "postgresql://x")
    #expect(configuration.source(of: "database-url") == .file("/tmp/kp.conf"))
  }

  @Test("--name=value, --name value and switches")
  func flagForms() throws {
    let configuration = try run(["--listen-address=a:1", "--database-url", "b", "--dry-run"])
    #expect(configuration.value("listen-address") == "a:1")
    #expect(configuration.value("database-url") == "b")
    #expect(try configuration.isOn("dry-run"))

    let off = try run([], environment: ["KP_DRY_RUN": "off"])
    #expect(try !off.isOn("dry-run"))
  }

  @Test(
    "unknown flags are refused with a message naming them",
    arguments: ["--bogus", "--bogus=1", "-x", "--listen"])
  func unknownFlag(argument: String) {
    let error = #expect(throws: ConfigurationError.self) {
      try command.parse([argument], environment: [:])
    }
    #expect(error?.code == .unknownOption)
    #expect(error?.message.contains(argument.split(separator: "=")[0]) == true)
    #expect(error?.message.contains("kp-test --help") == true)
  }

  @Test("a flag without its value is refused")
  func missingValue() {
    let error = #expect(throws: ConfigurationError.self) {
      try command.parse(["--database-url"], environment: [:])
    }
    #expect(error?.code == .missingValue)
    #expect(error?.message.contains("--database-url <value>") == true)
  }

  @Test("positional arguments are refused unless the command takes them")
  func positionalArguments() throws {
    let error = #expect(throws: ConfigurationError.self) {
      try command.parse(["serve"], environment: [:])
    }
    #expect(error?.code == .unexpectedArgument)

    let tool = ServiceCommand(name: "kp", summary: "The tool.", argumentsUsage: "<command>")
    guard
      case .run(let configuration) = try tool.parse(
        ["search", "--", "--literal"], environment: [:])
    else {
      Issue.record("expected a configuration")
      return
    }
    #expect(configuration.arguments == ["search", "--literal"])
  }

  @Test("--help and --version win over everything else")
  func helpAndVersion() throws {
    guard case .help = try command.parse(["--bogus", "--help"], environment: [:]) else {
      Issue.record("expected help")
      return
    }
    guard case .help = try command.parse(["-h"], environment: [:]) else {
      Issue.record("expected help")
      return
    }
    guard case .version = try command.parse(["--version"], environment: [:]) else {
      Issue.record("expected the version")
      return
    }
    #expect(command.versionText == "kp-test \(KPVersion.current)")
    #expect(KPVersion.current == "0.1.0")
  }

  @Test("the help text lists every option with its default and environment variable")
  func helpText() {
    let help = command.helpText
    #expect(help.hasPrefix("kp-test 0.1.0\nA service used by the tests.\n"))
    #expect(help.contains("Usage: kp-test [options]"))
    for expected in [
      "--listen-address <host:port>", "Default: 127.0.0.1:7000.", "KP_LISTEN_ADDRESS",
      "--database-url <value>", "KP_DATABASE_URL", "--dry-run", "--config <path>", "KP_CONFIG",
      "--log-level <level>", "KP_LOG_LEVEL", "--log-format <format>", "KP_LOG_FORMAT",
      "-h, --help", "--version",
    ] {
      #expect(help.contains(expected), "help text lacks \(expected)")
    }
    for line in help.split(separator: "\n") {
      #expect(line.count <= 80, "help line too wide: \(line)")
    }
  }

  @Test("an unknown key in the configuration file is refused with its line")
  func unknownFileKey() {
    let error = #expect(throws: ConfigurationError.self) {
      try run(["--config", "/etc/kp.conf"], file: "# comment\n\nlisten-address = a\nport = 1\n")
    }
    #expect(error?.code == .malformedFile)
    #expect(error?.message.hasPrefix("/etc/kp.conf:4: unknown setting 'port'") == true)
  }

  @Test("invalid log settings and switches are refused, naming the source")
  func invalidValues() {
    let level = #expect(throws: ConfigurationError.self) {
      try run([], environment: ["KP_LOG_LEVEL": "loud"])
    }
    #expect(level?.code == .invalidValue)
    #expect(level?.message.contains("'loud' (from environment)") == true)

    let format = #expect(throws: ConfigurationError.self) {
      try run(["--log-format", "xml"])
    }
    #expect(format?.message.contains("text or json") == true)

    let toggle = #expect(throws: ConfigurationError.self) {
      try run(["--dry-run=maybe"])
    }
    #expect(toggle?.code == .invalidValue)
  }

  @Test("typed accessors explain missing and malformed values")
  func typedAccessors() throws {
    let configuration = try run(
      ["--listen-address", "abc"], environment: ["KP_LOG_LEVEL": "debug"])
    let missing = #expect(throws: ConfigurationError.self) {
      try configuration.string("database-url")
    }
    #expect(missing?.code == .missingSetting)
    #expect(missing?.message.contains("KP_DATABASE_URL") == true)

    let notNumber = #expect(throws: ConfigurationError.self) {
      try configuration.integer("listen-address", in: 1...10)
    }
    #expect(notNumber?.code == .invalidValue)
    #expect(notNumber?.message.contains("(from flag)") == true)

    #expect(configuration.logLevel == .debug)
    #expect(configuration.logFormat == .text)
    #expect(configuration.makeLogger(label: "x").level == .debug)
  }
}
