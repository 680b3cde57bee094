import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Runs a command to completion with posix_spawn on a thread of its own, its standard input
/// from a file and its standard output to a file.
///
/// Foundation's Process waits on Dispatch threads that tests' blocked tasks can starve; this
/// blocks only the thread it makes.
public enum ChildProcess {
  public struct Failure: Error, CustomStringConvertible {
    public var description: String

    /// Makes a failure.
    public init(description: String) { self.description = description }
  }

  /// Runs `arguments[0]` (a path) and returns its exit status and standard output.
  ///
  /// - Parameters:
  ///   - arguments: The executable's path and its arguments.
  ///   - input: What the command reads on standard input.
  ///   - environment: Variables added to (or replacing those of) the test's environment.
  ///   - withStandardError: Whether standard error joins the output; otherwise it is dropped.
  public static func run(
    _ arguments: [String], input: [UInt8] = [], environment: [String: String] = [:],
    withStandardError: Bool = false
  ) async throws -> (status: Int32, output: [UInt8]) {
    try await withCheckedThrowingContinuation { continuation in
      let thread = Thread {
        continuation.resume(
          with: Result {
            try runBlocking(
              arguments, input: input, environment: environment,
              withStandardError: withStandardError)
          })
      }
      thread.start()
    }
  }

  private static func runBlocking(
    _ arguments: [String], input: [UInt8], environment: [String: String],
    withStandardError: Bool
  ) throws -> (status: Int32, output: [UInt8]) {
    let directory = FileManager.default.temporaryDirectory
    let stem = "kp-child-\(UUID().uuidString)"
    let inputPath = directory.appendingPathComponent(stem + ".in").path
    let outputPath = directory.appendingPathComponent(stem + ".out").path
    defer {
      unlink(inputPath)
      unlink(outputPath)
    }
    _ = FileManager.default.createFile(atPath: inputPath, contents: Data(input))

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, inputPath, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    if withStandardError {
      posix_spawn_file_actions_adddup2(&actions, 1, 2)
    } else {
      posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    }
    let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
    var variables = ProcessInfo.processInfo.environment
    for (key, value) in environment { variables[key] = value }
    let envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup("\($0)=\($1)") }
    defer {
      for pointer in argv + envp { free(pointer) }
    }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv + [nil], envp + [nil])
    guard spawned == 0 else {
      throw Failure(
        description: "cannot run \(arguments[0]): \(String(cString: strerror(spawned)))")
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let output = FileManager.default.contents(atPath: outputPath).map(Array.init) ?? []
    let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return (code, output)
  }
}
