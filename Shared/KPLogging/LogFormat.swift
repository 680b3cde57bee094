/// How a ``Logger`` renders one event as one line.
public enum LogFormat: Sendable, Hashable, CustomStringConvertible {
  /// A readable `key=value` line for people at a terminal:
  /// `2025-01-02T03:04:05.678Z info kp-auth: listening address=127.0.0.1:7443`.
  case text
  /// One JSON object per line for log collectors in production:
  /// `{"time":"…","level":"info","logger":"kp-auth","message":"listening","address":"…"}`.
  case json

  /// Reads a format from its name (`text` or `json`), ignoring case and surrounding spaces.
  ///
  /// - Parameter name: The format's name.
  /// - Returns: The format, or `nil` when the name is neither `text` nor `json`.
  public init?(name: String) {
    switch name.trimmingSpaces().lowercased() {
    case "text": self = .text
    case "json": self = .json
    default: return nil
    }
  }

  /// The format's name: `text` or `json`.
  public var description: String {
    switch self {
    case .text: "text"
    case .json: "json"
    }
  }
}
