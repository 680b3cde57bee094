import Foundation

/// Where a command reads a password from: `--password-file`, the `KP_PASSWORD` environment
/// variable, or standard input (one line). Never a flag's value, which other users can see
/// in the process list.
enum Password {
  /// Reads the password; a usage error names the three ways when none gives one.
  static func read(file: String?) throws -> String {
    if let file, !file.isEmpty {
      guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
        throw CLIError.file("cannot read the password file '\(file)'")
      }
      return trimmed(text)
    }
    if let value = ProcessInfo.processInfo.environment["KP_PASSWORD"], !value.isEmpty {
      return value
    }
    if isatty(STDIN_FILENO) != 0 {
      FileHandle.standardError.write(Data("Password: ".utf8))
    }
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
      throw CLIError.usage(
        "a password is required: give --password-file, set KP_PASSWORD, or type it on "
          + "standard input")
    }
    return line
  }

  private static func trimmed(_ text: String) -> String {
    var value = text
    while value.hasSuffix("\n") || value.hasSuffix("\r") { value.removeLast() }
    return value
  }
}
