import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Runs the repository's scripts (such as `scripts/postgres`) from tests, as child processes.
enum ScriptRunner {
  /// The repository's root, from this file's place in it.
  static var repositoryRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
  }

  /// Runs `bash <script> <arguments>` with extra environment variables, waits for it, and
  /// returns its exit status and output.
  static func run(
    _ script: String, _ arguments: [String], environment: [String: String] = [:],
    timeout: Duration = .seconds(120)
  ) async throws -> (status: Int32, output: String) {
    let path = repositoryRoot.appendingPathComponent(script).path
    let outputPath = FileManager.default.temporaryDirectory
      .appendingPathComponent("kp-ingest-script-\(UUID().uuidString).log").path
    defer { unlink(outputPath) }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let words = ["/bin/bash", path] + arguments
    let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) }
    var variables = ProcessInfo.processInfo.environment
    for (key, value) in environment { variables[key] = value }
    let envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup("\($0)=\($1)") }
    defer {
      for pointer in argv + envp { free(pointer) }
    }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, "/bin/bash", &actions, nil, argv + [nil], envp + [nil])
    guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }

    let deadline = ContinuousClock.now.advanced(by: timeout)
    var status: Int32 = 0
    while true {
      let result = waitpid(pid, &status, WNOHANG)
      if result == pid { break }
      if result == -1 && errno != EINTR { break }
      if ContinuousClock.now > deadline {
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
        break
      }
      try? await Task.sleep(for: .milliseconds(50))
    }
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    let exit = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return (exit, output)
  }
}
