import Foundation

/// A parsed configuration file: one `key = value` setting a line.
///
/// Blank lines and lines starting with `#` are ignored. Keys are setting names; `_` may stand for
/// `-` (`listen_address` is `listen-address`). A value may be wrapped in double quotes to keep
/// leading or trailing spaces or a `#`; inside quotes, `\"` and `\\` stand for `"` and `\`.
/// Anything else (a line without `=`, an empty key, a key given twice) is an error naming the
/// file and line.
public struct ConfigurationFile: Sendable, Equatable {
  /// Where the file was read from, as given.
  public let path: String

  /// The settings, keyed by setting name with `-` separators.
  public let values: [String: String]

  /// The line each setting was read from, keyed like ``values``.
  public let lines: [String: Int]

  /// Parses configuration text.
  ///
  /// - Parameters:
  ///   - text: The file's content.
  ///   - path: Where it came from, used in error messages.
  /// - Throws: ``ConfigurationError`` with code `malformedFile`.
  public init(parsing text: String, path: String) throws(ConfigurationError) {
    var values: [String: String] = [:]
    var lines: [String: Int] = [:]
    var lineNumber = 0
    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
      lineNumber += 1
      let line = String(rawLine).trimmingCharacters(in: .whitespacesAndNewlines)
      if line.isEmpty || line.hasPrefix("#") { continue }

      guard let equals = line.firstIndex(of: "=") else {
        throw Self.error(path, lineNumber, "expected 'key = value', found '\(line)'")
      }
      let rawKey = line[..<equals].trimmingCharacters(in: .whitespaces)
      let key = String(rawKey.lowercased().map { $0 == "_" ? "-" : $0 })
      guard !key.isEmpty else {
        throw Self.error(path, lineNumber, "the line has a value but no key")
      }
      if let first = lines[key] {
        throw Self.error(path, lineNumber, "'\(rawKey)' is already set on line \(first)")
      }
      let rawValue = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
      values[key] = try Self.value(rawValue, path: path, line: lineNumber)
      lines[key] = lineNumber
    }
    self.path = path
    self.values = values
    self.lines = lines
  }

  /// Reads and parses a file.
  ///
  /// - Parameter path: The file to read.
  /// - Returns: The parsed file.
  /// - Throws: ``ConfigurationError`` with code `unreadableFile` or `malformedFile`.
  public static func load(path: String) throws(ConfigurationError) -> ConfigurationFile {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw ConfigurationError(
        code: .unreadableFile,
        message: "cannot read configuration file '\(path)': it must exist, be readable and "
          + "hold UTF-8 text")
    }
    return try ConfigurationFile(parsing: text, path: path)
  }

  private static func value(
    _ raw: String,
    path: String,
    line: Int
  ) throws(ConfigurationError) -> String {
    guard raw.hasPrefix("\"") else {
      // An unquoted value ends at a comment.
      if let hash = raw.firstIndex(of: "#") {
        return raw[..<hash].trimmingCharacters(in: .whitespaces)
      }
      return raw
    }
    var result = ""
    var escaped = false
    var index = raw.index(after: raw.startIndex)
    while index < raw.endIndex {
      let character = raw[index]
      index = raw.index(after: index)
      if escaped {
        guard character == "\"" || character == "\\" else {
          throw error(path, line, "unknown escape '\\\(character)' in a quoted value")
        }
        result.append(character)
        escaped = false
      } else if character == "\\" {
        escaped = true
      } else if character == "\"" {
        let rest = raw[index...].trimmingCharacters(in: .whitespaces)
        guard rest.isEmpty || rest.hasPrefix("#") else {
          throw error(path, line, "unexpected text after the closing quote: '\(rest)'")
        }
        return result
      } else {
        result.append(character)
      }
    }
    throw error(path, line, "the quoted value has no closing quote")
  }

  private static func error(_ path: String, _ line: Int, _ problem: String) -> ConfigurationError {
    ConfigurationError(code: .malformedFile, message: "\(path):\(line): \(problem)")
  }
}
