public import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// One of the platform's executables running as a real child process, for tests that need a
/// service in its own process: to kill it mid-request, or to test its command line.
///
/// The executable is found next to the test bundle (SwiftPM builds every product into the same
/// directory). Its standard output and error go to a log file; ``start(_:arguments:environment:)``
/// waits until the service logs `serving` (with `--log-format json`) and reads its RPC port.
///
/// ```swift
/// let process = try await ServiceProcess.start(
///   "kp-tenants", arguments: ["--certs-dir", directory, "--listen-address", "127.0.0.1:0"])
/// defer { process.stop() }
/// ```
public final class ServiceProcess: @unchecked Sendable {
  /// A failure to start or find an executable.
  public struct ProcessError: Error, CustomStringConvertible {
    /// What went wrong, with the end of the process's log when there is one.
    public var message: String

    /// The message.
    public var description: String { message }
  }

  /// The child's process id.
  public let pid: pid_t

  /// The file holding the child's standard output and error.
  public let logPath: String

  /// The RPC port the service announced, or 0 for a command that serves nothing.
  public private(set) var port = 0

  // `exitStatus` is only touched with `lock` held.
  private let lock = NSLock()
  private var exitStatus: Int32?

  private init(pid: pid_t, logPath: String) {
    self.pid = pid
    self.logPath = logPath
  }

  deinit {
    if lock.withLock({ exitStatus }) == nil {
      Glibc.kill(pid, SIGKILL)
      _ = collect(blocking: true)
    }
  }

  /// The directory holding the test bundle and every built executable.
  public static var buildDirectory: URL {
    URL(
      fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(
        atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    ).deletingLastPathComponent()
  }

  /// Starts an executable and waits for it to announce its RPC port.
  ///
  /// - Parameters:
  ///   - executable: The product's name, such as `kp-tenants`.
  ///   - arguments: Its arguments; `--log-format json` is added.
  ///   - environment: Variables added to the test process's environment.
  ///   - waitForServing: Whether to wait for the `serving` line. Default `true`.
  ///   - timeout: How long to wait. Default 30 seconds.
  /// - Returns: The running process.
  /// - Throws: ``ProcessError`` when the executable is missing, exits, or stays silent.
  public static func start(
    _ executable: String, arguments: [String], environment: [String: String] = [:],
    waitForServing: Bool = true, timeout: Duration = .seconds(30)
  ) async throws -> ServiceProcess {
    let path = buildDirectory.appendingPathComponent(executable).path
    guard FileManager.default.isExecutableFile(atPath: path) else {
      throw ProcessError(message: "\(path) is missing; build the package first")
    }
    let logPath = FileManager.default.temporaryDirectory
      .appendingPathComponent("\(executable)-\(UUID().uuidString).log").path

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)

    let words = [path] + arguments + ["--log-format", "json"]
    let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) }
    var variables = ProcessInfo.processInfo.environment
    for (key, value) in environment { variables[key] = value }
    let envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup("\($0)=\($1)") }
    defer {
      for pointer in argv + envp { free(pointer) }
    }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, path, &actions, nil, argv + [nil], envp + [nil])
    guard spawned == 0 else {
      throw ProcessError(message: "cannot start \(path): \(String(cString: strerror(spawned)))")
    }

    let process = ServiceProcess(pid: pid, logPath: logPath)
    guard waitForServing else { return process }
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
      if let port = process.announcedPort() {
        process.port = port
        return process
      }
      if let status = process.collect(blocking: false) {
        throw ProcessError(
          message: "\(executable) exited with status \(status) before serving:\n\(process.log)")
      }
      try await Task.sleep(for: .milliseconds(50))
    }
    process.kill(SIGKILL)
    throw ProcessError(message: "\(executable) did not start serving:\n\(process.log)")
  }

  /// Everything the process wrote so far.
  public var log: String {
    (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
  }

  /// Sends a signal and, for SIGKILL, waits for the process to be gone.
  ///
  /// - Parameter signal: Such as `SIGKILL` or `SIGTERM`.
  public func kill(_ signal: Int32) {
    guard lock.withLock({ exitStatus }) == nil else { return }
    Glibc.kill(pid, signal)
    if signal == SIGKILL { _ = collect(blocking: true) }
  }

  /// Waits for the process to exit, up to `timeout`.
  ///
  /// - Parameter timeout: How long to wait. Default 60 seconds.
  /// - Returns: The exit status (128 + signal for a signal), or nil when it still runs.
  public func waitForExit(timeout: Duration = .seconds(60)) async -> Int32? {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
      if let status = collect(blocking: false) { return status }
      try? await Task.sleep(for: .milliseconds(20))
    }
    return nil
  }

  /// Stops the process with SIGTERM, then SIGKILL after five seconds.
  public func stop() {
    kill(SIGTERM)
    for _ in 0..<250 {
      if collect(blocking: false) != nil { return }
      usleep(20_000)
    }
    kill(SIGKILL)
  }

  private func announcedPort() -> Int? {
    for line in log.split(separator: "\n") where line.contains("\"message\":\"serving\"") {
      guard let range = line.range(of: "\"rpc_port\":\"") else { continue }
      return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
    return nil
  }

  /// Reaps the child if it has exited.
  private func collect(blocking: Bool) -> Int32? {
    lock.lock()
    defer { lock.unlock() }
    if let exitStatus { return exitStatus }
    var status: Int32 = 0
    var result: pid_t
    repeat {
      result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
    } while result == -1 && errno == EINTR
    guard result == pid else { return nil }
    // WIFEXITED / WEXITSTATUS are macros: an exit leaves the low 7 bits zero.
    let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    exitStatus = code
    return code
  }
}

extension TestMesh {
  /// Writes a certificate directory for a service process, as `--certs-dir` expects: `ca.pem`,
  /// `<service>.pem` and `<service>.key`.
  ///
  /// - Parameter service: The service's name, such as `tenants`.
  /// - Returns: The directory's path, inside the CA's temporary directory.
  public func certificatesDirectory(for service: String) throws -> String {
    let issued = try authority.issue(identity: Self.identity(service))
    let directory = URL(fileURLWithPath: authority.directory)
      .appendingPathComponent("certs-\(service)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try authority.certificatePEM.write(
      to: directory.appendingPathComponent("ca.pem"), atomically: true, encoding: .utf8)
    try issued.certificatePEM.write(
      to: directory.appendingPathComponent("\(service).pem"), atomically: true, encoding: .utf8)
    let key = directory.appendingPathComponent("\(service).key")
    try issued.privateKeyPEM.write(to: key, atomically: true, encoding: .utf8)
    chmod(key.path, 0o600)
    return directory.path
  }
}
