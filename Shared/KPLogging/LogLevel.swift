/// How important a log event is, from the most verbose (`trace`) to the most severe (`critical`).
///
/// A ``Logger`` writes an event when its level is at least the logger's minimum level.
public enum LogLevel: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
  /// Step-by-step detail, useful only while chasing one problem.
  case trace
  /// Detail a developer needs to follow what a component does.
  case debug
  /// Facts an operator cannot learn otherwise, such as the address a service listens on.
  case info
  /// Normal but significant events, such as a configuration change or a graceful shutdown.
  case notice
  /// Something unexpected that the component handled.
  case warning
  /// An operation failed; the component keeps running.
  case error
  /// The component cannot continue.
  case critical

  /// Reads a level from its name (`trace`, `debug`, `info`, `notice`, `warning`, `error`,
  /// `critical`), ignoring case and surrounding spaces. `warn` is accepted for `warning`.
  ///
  /// - Parameter name: The level's name.
  /// - Returns: The level, or `nil` when the name is not one of the levels.
  public init?(name: String) {
    let normalized = name.trimmingSpaces().lowercased()
    if normalized == "warn" {
      self = .warning
      return
    }
    guard let level = Self.allCases.first(where: { $0.description == normalized }) else {
      return nil
    }
    self = level
  }

  /// The level's lowercase name, as written in log lines.
  public var description: String {
    switch self {
    case .trace: "trace"
    case .debug: "debug"
    case .info: "info"
    case .notice: "notice"
    case .warning: "warning"
    case .error: "error"
    case .critical: "critical"
    }
  }

  public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
    lhs.rawValue < rhs.rawValue
  }
}

extension String {
  /// The string without leading and trailing spaces, tabs and line breaks.
  func trimmingSpaces() -> String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0.isNewline }
    guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
    let end = lastIndex(where: { !isSpace($0) })!
    return String(self[start...end])
  }
}
