import Foundation
import KPServiceKit
import KPTokens

#if canImport(Glibc)
  import Glibc
#endif

/// The local mesh on one machine: each service a separate background process on loopback,
/// talking mutual TLS, with its pid file and log in the run directory.
///
/// Starting is idempotent: a service whose pid file names a live process of the right
/// executable is left alone. A service that exits or stays silent while starting stops the
/// start with the end of its log.
struct LocalMesh {
  /// The services in start order: auth asks the tenant registry about tenants; ingest hands
  /// documents to knowledge; the gateway calls them all.
  static let services = ["tenants", "auth", "knowledge", "ingest", "gateway"]

  /// The platform administrator's sign-in email.
  static let adminEmail = "admin@knowledgeplane.local"

  var binDirectory: String
  var runDirectory: String
  var secretsDirectory: String
  var certsDirectory: String
  var databaseURL: String
  var startTimeout: Duration

  /// The file holding the platform administrator's password.
  var adminPasswordFile: String { secretsDirectory + "/platform-admin-password" }

  /// What `up` did for one service.
  struct Started {
    var service: String
    var pid: Int32
    var reused: Bool
    var line: String
  }

  // MARK: - Up

  /// Starts every service not already running, in order.
  ///
  /// - Parameter report: Called as each service is up.
  func up(report: (Started) -> Void) async throws {
    try makeDirectories()
    let adminHash = try platformAdminPasswordHash()
    for service in Self.services {
      report(try await start(service, adminHash: adminHash))
    }
  }

  private func makeDirectories() throws {
    for path in [runDirectory, secretsDirectory] {
      do {
        try FileManager.default.createDirectory(
          atPath: path, withIntermediateDirectories: true)
      } catch {
        throw CLIError.file("cannot create \(path): \(error.localizedDescription)")
      }
    }
    chmod(secretsDirectory, 0o700)
    guard FileManager.default.fileExists(atPath: certsDirectory + "/ca.pem") else {
      throw CLIError.file(
        "no development certificates in \(certsDirectory); scripts/make-dev-certs makes them")
    }
  }

  /// The arguments a service is started with, besides `--certs-dir`.
  func arguments(for service: String, adminHash: String) -> [String] {
    switch service {
    case "auth":
      return [
        "--tenants-address", "127.0.0.1:\(MeshService.defaultPorts["tenants"] ?? 7102)",
        "--key-encryption-key-file", secretsDirectory + "/auth-key-encryption.key",
        "--platform-admin-email", Self.adminEmail,
        "--platform-admin-password-hash", adminHash,
      ]
    default:
      return []
    }
  }

  private func start(_ service: String, adminHash: String) async throws -> Started {
    if let pid = runningPID(service) {
      return Started(service: service, pid: pid, reused: true, line: "already running")
    }
    let executable = binDirectory + "/kp-" + service
    guard FileManager.default.isExecutableFile(atPath: executable) else {
      throw CLIError.file("\(executable) is missing; build with 'swift build' first")
    }
    let logPath = runDirectory + "/\(service).log"
    guard FileManager.default.createFile(atPath: logPath, contents: nil) else {
      throw CLIError.file("cannot create the log file \(logPath)")
    }

    let arguments =
      [executable, "--certs-dir", certsDirectory]
      + arguments(for: service, adminHash: adminHash)
    var environment = ProcessInfo.processInfo.environment
    environment["KP_DATABASE_URL"] = databaseURL
    let pid = try spawn(arguments, environment: environment, logPath: logPath)
    try "\(pid)\n".write(toFile: pidPath(service), atomically: true, encoding: .utf8)

    let deadline = ContinuousClock.now.advanced(by: startTimeout)
    while ContinuousClock.now < deadline {
      let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
      if let line = log.split(separator: "\n").last(where: { $0.contains("serving") }) {
        return Started(service: service, pid: pid, reused: false, line: String(line))
      }
      var status: Int32 = 0
      if waitpid(pid, &status, WNOHANG) == pid {
        try? FileManager.default.removeItem(atPath: pidPath(service))
        throw CLIError(
          code: "SERVICE_FAILED",
          message: "kp-\(service) exited while starting; the end of its log (\(logPath)):\n"
            + Self.tail(log))
      }
      try await Task.sleep(for: .milliseconds(100))
    }
    kill(pid, SIGTERM)
    let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    throw CLIError(
      code: "SERVICE_FAILED",
      message: "kp-\(service) did not report serving within \(startTimeout); the end of its "
        + "log (\(logPath)):\n" + Self.tail(log))
  }

  /// Starts a process in a process group of its own, with standard
  /// input from /dev/null and output appended to its log.
  private func spawn(_ arguments: [String], environment: [String: String], logPath: String)
    throws -> pid_t
  {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // A process group of its own: a Ctrl-C meant for kp does not reach the services.
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
    posix_spawnattr_setpgroup(&attributes, 0)

    let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
    let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0)=\($1)") }
    defer { for pointer in argv + envp { free(pointer) } }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv + [nil], envp + [nil])
    guard result == 0 else {
      throw CLIError(
        code: "SERVICE_FAILED",
        message: "cannot start \(arguments[0]): \(String(cString: strerror(result)))")
    }
    return pid
  }

  // MARK: - Down

  /// Stops every running service, gateway first, each with SIGTERM (a graceful drain), then
  /// SIGKILL if it is still there after `grace`.
  ///
  /// - Returns: The services stopped.
  func down(grace: Duration = .seconds(15)) async -> [String] {
    var stopped: [String] = []
    for service in Self.services.reversed() {
      guard let pid = runningPID(service) else {
        try? FileManager.default.removeItem(atPath: pidPath(service))
        continue
      }
      kill(pid, SIGTERM)
      let deadline = ContinuousClock.now.advanced(by: grace)
      while runningPID(service) != nil && ContinuousClock.now < deadline {
        try? await Task.sleep(for: .milliseconds(100))
      }
      if runningPID(service) != nil { kill(pid, SIGKILL) }
      try? FileManager.default.removeItem(atPath: pidPath(service))
      stopped.append(service)
    }
    return stopped
  }

  // MARK: - Processes

  private func pidPath(_ service: String) -> String { runDirectory + "/\(service).pid" }

  /// The pid in a service's pid file, when that process lives and is the service.
  func runningPID(_ service: String) -> pid_t? {
    guard let text = try? String(contentsOfFile: pidPath(service), encoding: .utf8),
      let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
    else { return nil }
    // A child of this process that has exited is reaped here so it stops counting as alive.
    var status: Int32 = 0
    if waitpid(pid, &status, WNOHANG) == pid { return nil }
    let command = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
    guard command.trimmingCharacters(in: .whitespacesAndNewlines) == "kp-" + service else {
      return nil
    }
    return pid
  }

  // MARK: - The platform administrator

  /// The argon2id hash of the platform administrator's password, made (with the password)
  /// on first use. The password stays in a 0600 file; only its hash is passed to kp-auth.
  private func platformAdminPasswordHash() throws -> String {
    let path = adminPasswordFile
    if !FileManager.default.fileExists(atPath: path) {
      let password = try SecureRandom.bytes(18)
      let text = Data(password).base64EncodedString() + "\n"
      guard
        FileManager.default.createFile(
          atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
      else {
        throw CLIError.file("cannot write \(path)")
      }
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binDirectory + "/kp-auth")
    process.arguments = ["hash-password"]
    process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    let output = Pipe()
    process.standardOutput = output
    do {
      try process.run()
    } catch {
      throw CLIError(
        code: "SERVICE_FAILED",
        message: "cannot run kp-auth hash-password: \(error.localizedDescription)")
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let hash = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard process.terminationStatus == 0, !hash.isEmpty else {
      throw CLIError(
        code: "SERVICE_FAILED", message: "kp-auth hash-password failed for \(path)")
    }
    return hash
  }

  private static func tail(_ log: String) -> String {
    log.split(separator: "\n", omittingEmptySubsequences: false).suffix(20)
      .joined(separator: "\n")
  }
}
