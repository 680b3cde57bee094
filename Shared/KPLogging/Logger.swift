/// A structured logger: one line per event, with a constant message and key-value fields.
///
/// ```swift
/// let logger = Logger.fromEnvironment(label: "kp-auth")
/// logger.info("listening", ["address": "127.0.0.1:7443"])
/// ```
///
/// Messages should be constant text; what varies goes in fields. Fields whose key looks
/// secret-bearing (see ``LogRedaction``) are always written as `[redacted]`.
///
/// Libraries take a logger from their caller and default to ``disabled``, so they are quiet
/// unless a service asks otherwise. A logger is a small value: copy it, add fields with
/// ``with(_:)`` and pass it on.
public struct Logger: Sendable {
  /// Names the component that logs, such as `kp-auth` or `rpc.server`.
  public var label: String

  /// Events below this level are not written.
  public var level: LogLevel

  /// How lines are rendered.
  public var format: LogFormat

  /// Fields added to every event this logger writes; an event's own fields win on a clash.
  public var fields: [String: String]

  /// Where lines go, or `nil` for a logger that writes nothing.
  private let writer: LogWriter?

  /// Creates a logger.
  ///
  /// - Parameters:
  ///   - label: Names the component that logs.
  ///   - level: The minimum level written. Default: `info`.
  ///   - format: How lines are rendered. Default: `text`.
  ///   - fields: Fields added to every event. Default: none.
  ///   - writer: Where lines go. Default: standard error.
  public init(
    label: String,
    level: LogLevel = .info,
    format: LogFormat = .text,
    fields: [String: String] = [:],
    writer: LogWriter = .standardError
  ) {
    self.label = label
    self.level = level
    self.format = format
    self.fields = fields
    self.writer = writer
  }

  private init(disabledWithLabel label: String) {
    self.label = label
    self.level = .critical
    self.format = .text
    self.fields = [:]
    self.writer = nil
  }

  /// A logger that writes nothing: the default for libraries.
  public static let disabled = Logger(disabledWithLabel: "disabled")

  /// The environment variable holding the minimum level: `KP_LOG_LEVEL`.
  public static let levelEnvironmentKey = "KP_LOG_LEVEL"

  /// The environment variable holding the format: `KP_LOG_FORMAT`.
  public static let formatEnvironmentKey = "KP_LOG_FORMAT"

  /// Creates a logger whose level and format come from `KP_LOG_LEVEL` (default `info`) and
  /// `KP_LOG_FORMAT` (`text` or `json`, default `text`).
  ///
  /// A value that is not a level or a format is ignored, and the first line the logger writes
  /// is a warning that says so.
  ///
  /// - Parameters:
  ///   - label: Names the component that logs.
  ///   - environment: The variables to read, or `nil` for the process environment.
  ///   - writer: Where lines go. Default: standard error.
  /// - Returns: The configured logger.
  public static func fromEnvironment(
    label: String,
    environment: [String: String]? = nil,
    writer: LogWriter = .standardError
  ) -> Logger {
    let environment = environment ?? LogTime.processEnvironment()
    var logger = Logger(label: label, writer: writer)
    var problems: [String: String] = [:]
    if let value = environment[levelEnvironmentKey] {
      if let level = LogLevel(name: value) {
        logger.level = level
      } else {
        problems[levelEnvironmentKey] = value
      }
    }
    if let value = environment[formatEnvironmentKey] {
      if let format = LogFormat(name: value) {
        logger.format = format
      } else {
        problems[formatEnvironmentKey] = value
      }
    }
    if !problems.isEmpty {
      logger.warning("ignoring invalid logging settings", problems)
    }
    return logger
  }

  /// Whether an event at this level would be written.
  ///
  /// - Parameter level: The event's level.
  /// - Returns: `true` when the logger writes events of that level.
  public func isEnabled(_ level: LogLevel) -> Bool {
    writer != nil && level >= self.level
  }

  /// A copy of this logger that adds fields to every event.
  ///
  /// - Parameter fields: Fields to add; they replace existing fields with the same key.
  /// - Returns: The new logger.
  public func with(_ fields: [String: String]) -> Logger {
    var copy = self
    copy.fields.merge(fields) { _, new in new }
    return copy
  }

  /// Writes one event.
  ///
  /// - Parameters:
  ///   - level: The event's level.
  ///   - message: A constant description of the event.
  ///   - fields: The event's fields; evaluated only when the event is written.
  public func log(
    _ level: LogLevel,
    _ message: String,
    _ fields: @autoclosure () -> [String: String] = [:]
  ) {
    guard let writer, level >= self.level else { return }
    var merged = self.fields
    merged.merge(fields()) { _, new in new }
    let line = LogLineRenderer.render(
      time: LogTime.now(), level: level, label: label, message: message, fields: merged,
      format: format)
    writer.write(line: line)
  }

  /// Writes an event at level `trace`.
  public func trace(_ message: String, _ fields: @autoclosure () -> [String: String] = [:]) {
    log(.trace, message, fields())
  }

  /// Writes an event at level `debug`.
  public func debug(_ message: String, _ fields: @autoclosure () -> [String: String] = [:]) {
    log(.debug, message, fields())
  }

  /// Writes an event at level `info`.
  public func info(_ message: String, _ fields: @autoclosure () -> [String: String] = [:]) {
    log(.info, message, fields())
  }

  /// Writes an event at level `notice`.
  public func notice(_ message: String, _ fields: @autoclosure () -> [String: String] = [:]) {
    log(.notice, message, fields())
  }

  /// Writes an event at level `warning`.
  public func warning(_ message: String, _ fields: @autoclosure () -> [String: String] = [:]) {
    log(.warning, message, fields())
  }

  /// Writes an event at level `error`.
  public func error(_ message: String, _ fields: @autoclosure () -> [String: String] = [:]) {
    log(.error, message, fields())
  }

  /// Writes an event at level `critical`.
  public func critical(_ message: String, _ fields: @autoclosure () -> [String: String] = [:]) {
    log(.critical, message, fields())
  }
}
