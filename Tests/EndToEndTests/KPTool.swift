import Foundation
import KPTesting

/// Runs the real `kp` executable against a platform, as one principal with a saved login of
/// its own.
struct KPTool {
  /// What one run printed and how it ended.
  struct Outcome {
    var status: Int32
    /// Standard output and standard error together.
    var output: String

    /// The output parsed as a JSON object, or an empty one.
    var json: [String: Any] {
      (try? JSONSerialization.jsonObject(with: Data(output.utf8))) as? [String: Any] ?? [:]
    }
  }

  let platform: PlatformProcesses
  /// Where logins and password files live.
  let directory: String

  /// The built `kp` executable.
  static var executable: String {
    ServiceProcess.buildDirectory.appendingPathComponent("kp").path
  }

  /// Runs `kp arguments…` as `principal` (its saved login in the directory), with the
  /// platform's gateway and CA, and returns what it printed.
  func run(
    _ arguments: [String], as principal: String = "nobody", input: String = "",
    environment: [String: String] = [:]
  ) async throws -> Outcome {
    let global = [
      "--gateway", platform.gatewayURL, "--ca-file", platform.caPath,
      "--credentials-file", "\(directory)/\(principal).credentials",
    ]
    // Options go after the command's words; a `--` ends them.
    let split = arguments.firstIndex(of: "--") ?? arguments.endIndex
    let words = Array(arguments[..<split]) + global + Array(arguments[split...])
    let result = try await ChildProcess.run(
      [Self.executable] + words, input: Array(input.utf8),
      environment: ["HOME": directory, "XDG_CACHE_HOME": directory + "/cache"]
        .merging(environment) { $1 },
      withStandardError: true)
    return Outcome(status: result.status, output: String(decoding: result.output, as: UTF8.self))
  }

  /// Runs `kp` and fails with its output unless it exits 0.
  @discardableResult
  func expectSuccess(
    _ arguments: [String], as principal: String = "nobody", input: String = ""
  ) async throws -> Outcome {
    let outcome = try await run(arguments, as: principal, input: input)
    guard outcome.status == 0 else {
      throw ChildProcess.Failure(
        description: "kp \(arguments.joined(separator: " ")) exited \(outcome.status):\n"
          + outcome.output)
    }
    return outcome
  }

  /// Writes a password file and returns its path.
  func passwordFile(_ name: String, _ password: String) throws -> String {
    let path = "\(directory)/\(name).password"
    try password.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }
}
