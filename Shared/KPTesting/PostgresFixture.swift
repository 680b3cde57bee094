import Foundation
public import KPDatabase

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

  /// Creates a uniquely named, empty database, runs `body` with its URL, then drops it, also
  /// when `body` throws.
  ///
  /// - Parameter body: Receives the new database's URL.
  /// - Returns: What `body` returns.
  public static func withDatabase<Result>(
    _ body: (String) async throws -> Result
  ) async throws -> Result {
    let server = try serverURL()
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
  static let shared = ServerLocator()

  // `cached` is only touched with `lock` held.
  private let lock = NSLock()
  private var cached: String?

  func url() throws -> String {
    lock.lock()
    defer { lock.unlock() }
    if let cached { return cached }

    let environment = ProcessInfo.processInfo.environment
    if let url = environment[PostgresFixture.urlEnvironmentKey], !url.isEmpty {
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
    let started = try run(script, "start")
    guard started.status == 0 else {
      throw unavailable("scripts/postgres start failed:\n\(started.output)")
    }
    let printed = try run(script, "env")
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

  private func run(_ script: String, _ argument: String) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["bash", script, argument]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do {
      try process.run()
    } catch {
      throw unavailable("cannot run \(script): \(error)")
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  private func unavailable(_ message: String) -> PostgresFixture.FixtureError {
    PostgresFixture.FixtureError(code: .serverUnavailable, message: message)
  }
}
