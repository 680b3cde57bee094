/// Why a `kp` command failed: a stable code, a message a person can act on, and the exit
/// status the command ends with.
struct CLIError: Error, CustomStringConvertible {
  /// The kind of failure; API errors carry the gateway's code (such as `NOT_FOUND`).
  var code: String
  /// What went wrong and, where there is one, what to do about it.
  var message: String
  /// The process's exit status: 2 for a command line that cannot be used, 1 otherwise.
  var exitStatus: Int32 = 1

  var description: String { message }

  /// A command line that cannot be used (exit status 2).
  static func usage(_ message: String) -> CLIError {
    CLIError(code: "USAGE", message: message, exitStatus: 2)
  }

  /// A local file or directory that cannot be read or written.
  static func file(_ message: String) -> CLIError {
    CLIError(code: "FILE", message: message)
  }
}
