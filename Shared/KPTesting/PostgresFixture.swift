import Foundation
public import KPDatabase

#if canImport(Glibc)
  import Glibc
#endif

/// A PostgreSQL server for tests, and a fresh database for each test that asks.
///
/// The server is the one `KP_DATABASE_URL` names (``scripts/test`` sets it). When that variable is
/// unset, the fixture starts the project's own cluster with `scripts/postgres start`, found from
/// this file's location in the repository, and leaves it running for later test runs;
/// `scripts/postgres stop` stops it.
///
/// ```swift
/// @Test func storesDocuments() async throws {
///   try await PostgresFixture.withConnection { connection in
///     try connection.query("CREATE TABLE documents (id text PRIMARY KEY)")
///   }
/// }
/// ```
public enum PostgresFixture {
  /// A failure to provide a database for a test.
  public struct FixtureError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
      private let name: String

      private init(_ name: String) {
        self.name = name
      }

      /// The cluster could not be found or started.
      public static let serverUnavailable = Code("serverUnavailable")

      /// The code's name.
      public var description: String { name }
    }

    /// What kind of failure this is.
    public var code: Code

    /// A description a person can act on.
    public var message: String

    /// The message.
    public var description: String { message }
  }

  /// The environment variable naming the server: `KP_DATABASE_URL`.
  public static let urlEnvironmentKey = "KP_DATABASE_URL"

  /// The server's URL, connected to its maintenance database `postgres`; starts the project's
  /// cluster when `KP_DATABASE_URL` is unset.
  ///
  /// - Returns: A libpq connection URL.
  /// - Throws: ``FixtureError`` when the cluster cannot be started.
  public static func serverURL() throws -> String {
    try ServerLocator.shared.url()
  }

  /// The environment variable naming a second server, for tests of placement across clusters:
  /// `KP_SECOND_DATABASE_URL`.
  public static let secondURLEnvironmentKey = "KP_SECOND_DATABASE_URL"

  /// The port of the second cluster the fixture starts when `KP_SECOND_DATABASE_URL` is unset:
  /// one above the first cluster's (`KP_PG_PORT`, default 55432), so checkouts that move the
  /// first cluster move the second with it.
  public static var secondClusterPort: Int {
    let first = ProcessInfo.processInfo.environment["KP_PG_PORT"].flatMap { Int($0) } ?? 55432
    return first + 1
  }

  /// A second, separate server's URL, connected to its maintenance database `postgres`. When
  /// `KP_SECOND_DATABASE_URL` is unset, the fixture starts a second cluster of the project's own
  /// with `scripts/postgres start` on the port after the first's, in `postgres-second` next to
  /// the first cluster's data directory, and leaves it running (`scripts/test` stops it).
  ///
  /// - Returns: A libpq connection URL.
  /// - Throws: ``FixtureError`` when the cluster cannot be started.
  public static func secondServerURL() throws -> String {
    try ServerLocator.second.url()
  }

  /// Creates a uniquely named, empty database on the second server, as ``withDatabase(_:)``
  /// does on the first.
  ///
  /// - Parameter body: Receives the new database's URL.
  /// - Returns: What `body` returns.
  public static func withSecondDatabase<Result>(
    _ body: (String) async throws -> Result
  ) async throws -> Result {
    try await withDatabase(on: try secondServerURL(), body)
  }

  /// Creates a uniquely named, empty database, runs `body` with its URL, then drops it, also
  /// when `body` throws.
  ///
  /// - Parameter body: Receives the new database's URL.
  /// - Returns: What `body` returns.
  public static func withDatabase<Result>(
    _ body: (String) async throws -> Result
  ) async throws -> Result {
    try await withDatabase(on: try serverURL(), body)
  }

  private static func withDatabase<Result>(
    on server: String, _ body: (String) async throws -> Result
  ) async throws -> Result {
    let name = "kp_test_" + randomSuffix()
    let admin = try PostgresConnection.connect(url: server, applicationName: "kp-test-fixture")
    defer { admin.close() }

    try admin.query("CREATE DATABASE \"\(name)\"")
    let result: Result
    do {
      result = try await body(databaseURL(server, database: name))
    } catch {
      _ = try? admin.query("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)")
      throw error
    }
    try admin.query("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)")
    return result
  }

  /// Creates a fresh database as ``withDatabase(_:)`` does and runs `body` with a connection
  /// to it.
  ///
  /// - Parameter body: Receives an open connection to the new database.
  /// - Returns: What `body` returns.
  public static func withConnection<Result>(
    _ body: (PostgresConnection) async throws -> Result
  ) async throws -> Result {
    try await withDatabase { url in
      let connection = try PostgresConnection.connect(url: url, applicationName: "kp-test")
      defer { connection.close() }
      return try await body(connection)
    }
  }

  /// A URL like `server` that names another database.
  ///
  /// - Parameters:
  ///   - server: A `postgresql://` or `postgres://` URL, or a `key=value` connection string.
  ///   - database: The database name to put in it.
  /// - Returns: The rewritten URL or connection string.
  public static func databaseURL(_ server: String, database: String) -> String {
    guard let scheme = server.range(of: "://") else {
      return server + " dbname=\(database)"
    }
    let query = server[scheme.upperBound...].firstIndex(of: "?") ?? server.endIndex
    let authorityAndPath = server[scheme.upperBound..<query]
    let authority = authorityAndPath.split(separator: "/", maxSplits: 1).first ?? ""
    return server[..<scheme.upperBound] + authority + "/" + database + server[query...]
  }

  private static func randomSuffix() -> String {
    var generator = SystemRandomNumberGenerator()
    let value = generator.next() as UInt64
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }
}

/// Finds or starts the server once per test process.
private final class ServerLocator: @unchecked Sendable {
  static let shared = ServerLocator(
    environmentKey: PostgresFixture.urlEnvironmentKey, second: false)
  static let second = ServerLocator(
    environmentKey: PostgresFixture.secondURLEnvironmentKey, second: true)

  private let environmentKey: String
  private let isSecond: Bool

  // `cached` is only touched with `lock` held.
  private let lock = NSLock()
  private var cached: String?

  private init(environmentKey: String, second: Bool) {
    self.environmentKey = environmentKey
    self.isSecond = second
  }

  func url() throws -> String {
    lock.lock()
    defer { lock.unlock() }
    if let cached { return cached }

    let environment = ProcessInfo.processInfo.environment
    if let url = environment[environmentKey], !url.isEmpty {
      cached = url
      return url
    }

    // Shared/KPTesting/PostgresFixture.swift → the repository root.
    let root = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let script = root.appendingPathComponent("scripts/postgres").path
    guard FileManager.default.isExecutableFile(atPath: script) else {
      throw unavailable(
        "\(PostgresFixture.urlEnvironmentKey) is unset and \(script) is missing; set the "
          + "variable to a PostgreSQL URL or run the tests from the repository (scripts/test)")
    }
    let overrides = isSecond ? try secondClusterEnvironment(script) : [:]
    let started = try run(script, "start", overrides)
    guard started.status == 0 else {
      throw unavailable("scripts/postgres start failed:\n\(started.output)")
    }
    let printed = try run(script, "env", overrides)
    let prefix = "export \(PostgresFixture.urlEnvironmentKey)="
    guard
      let line = printed.output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) })
    else {
      throw unavailable("scripts/postgres env printed no \(PostgresFixture.urlEnvironmentKey)")
    }
    let url = String(line.dropFirst(prefix.count))
    cached = url
    return url
  }

  /// Runs `bash script argument` to completion and returns its exit status and output.
  ///
  /// This uses posix_spawn and waitpid rather than Foundation's Process: it is called with the
  /// lock held from a test's task, and Process's completion relies on Dispatch threads that
  /// blocked tasks can starve.
  /// `KP_PG_PORT` and `KP_PG_DIR` for the second cluster: its own port, and a data directory
  /// next to the first cluster's.
  private func secondClusterEnvironment(_ script: String) throws -> [String: String] {
    let printed = try run(script, "env", [:])
    let prefix = "export KP_PG_DIR="
    guard
      let line = printed.output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) })
    else {
      throw unavailable("scripts/postgres env printed no KP_PG_DIR")
    }
    let first = URL(fileURLWithPath: String(line.dropFirst(prefix.count)))
    return [
      "KP_PG_PORT": "\(PostgresFixture.secondClusterPort)",
      "KP_PG_DIR": first.deletingLastPathComponent().appendingPathComponent("postgres-second").path,
    ]
  }

  private func run(
    _ script: String, _ argument: String, _ overrides: [String: String]
  ) throws -> (status: Int32, output: String) {
    let outputPath = FileManager.default.temporaryDirectory
      .appendingPathComponent("kp-postgres-\(getpid())-\(isSecond ? 2 : 1)-\(argument).log").path
    defer { unlink(outputPath) }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)

    let words: [String] = ["/bin/bash", script, argument]
    let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) }
    defer {
      for pointer in arguments { free(pointer) }
    }
    var pid: pid_t = 0
    var variables = ProcessInfo.processInfo.environment
    for (key, value) in overrides { variables[key] = value }
    if isSecond { variables.removeValue(forKey: PostgresFixture.urlEnvironmentKey) }
    let environmentCopies: [UnsafeMutablePointer<CChar>?] = variables.map { strdup("\($0)=\($1)") }
    defer {
      for pointer in environmentCopies { free(pointer) }
    }
    let spawned = posix_spawn(
      &pid, "/bin/bash", &actions, nil, arguments + [nil], environmentCopies + [nil])
    guard spawned == 0 else {
      throw unavailable("cannot run \(script): \(String(cString: strerror(spawned)))")
    }

    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    // WIFEXITED / WEXITSTATUS are macros: an exit leaves the low 7 bits zero.
    let exitStatus = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return (exitStatus, output)
  }

  private func unavailable(_ message: String) -> PostgresFixture.FixtureError {
    PostgresFixture.FixtureError(code: .serverUnavailable, message: message)
  }
}
