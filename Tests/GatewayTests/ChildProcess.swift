import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Runs a command to completion with posix_spawn on a thread of its own, its standard input
/// from a file and its standard output to a file.
///
/// Foundation's Process waits on Dispatch threads that tests' blocked tasks can starve; this
/// blocks only the thread it makes.
enum ChildProcess {
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// Runs `arguments[0]` (a path) and returns its exit status and standard output.
  static func run(
    _ arguments: [String], input: [UInt8] = []
  ) async throws -> (status: Int32, output: [UInt8]) {
    try await withCheckedThrowingContinuation { continuation in
      let thread = Thread {
        continuation.resume(with: Result { try runBlocking(arguments, input: input) })
      }
      thread.start()
    }
  }

  private static func runBlocking(
    _ arguments: [String], input: [UInt8]
  ) throws -> (status: Int32, output: [UInt8]) {
    let directory = FileManager.default.temporaryDirectory
    let stem = "kp-gateway-test-\(UUID().uuidString)"
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
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
    let envp: [UnsafeMutablePointer<CChar>?] = ProcessInfo.processInfo.environment.map {
      strdup("\($0)=\($1)")
    }
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
