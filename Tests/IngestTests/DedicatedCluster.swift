import Foundation
import KPDatabase

/// A PostgreSQL cluster of a test's own, which the test may stop and start at will: never the
/// shared one. It lives next to the project's cluster's data directory (under `.kp/` when the
/// repository allows it), listens on its own port, and is removed when the test is done.
final class DedicatedCluster: Sendable {
  let port: Int
  let directory: String

  private init(port: Int, directory: String) {
    self.port = port
    self.directory = directory
  }

  /// The environment `scripts/postgres` takes for this cluster.
  var environment: [String: String] {
    ["KP_PG_PORT": "\(port)", "KP_PG_DIR": directory]
  }

  /// The URL of the cluster's maintenance database.
  var url: String { "postgresql://postgres@127.0.0.1:\(port)/postgres" }

  /// Initialises a fresh cluster in `name` next to the project's cluster and starts it on
  /// `port`.
  static func start(port: Int, name: String) async throws -> DedicatedCluster {
    let printed = try await ScriptRunner.run("scripts/postgres", ["env"])
    let prefix = "export KP_PG_DIR="
    guard
      let line = printed.output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) })
    else {
      throw DatabaseError(code: .connectionFailed, message: "scripts/postgres env: no KP_PG_DIR")
    }
    let shared = URL(fileURLWithPath: String(line.dropFirst(prefix.count)))
    let directory = shared.deletingLastPathComponent().appendingPathComponent(name).path
    let cluster = DedicatedCluster(port: port, directory: directory)
    // A cluster left by an interrupted run is replaced by a fresh one.
    await cluster.remove()
    try await cluster.startServer()
    return cluster
  }

  /// Starts the server and waits until it takes connections.
  func startServer() async throws {
    let started = try await ScriptRunner.run(
      "scripts/postgres", ["start"], environment: environment)
    guard started.status == 0 else {
      throw DatabaseError(
        code: .connectionFailed, message: "scripts/postgres start failed:\n\(started.output)")
    }
  }

  /// Stops the server (a fast shutdown: open connections are cut).
  func stopServer() async throws {
    let stopped = try await ScriptRunner.run(
      "scripts/postgres", ["stop"], environment: environment)
    guard stopped.status == 0 else {
      throw DatabaseError(
        code: .connectionFailed, message: "scripts/postgres stop failed:\n\(stopped.output)")
    }
  }

  /// Stops the server and removes its data directory.
  func remove() async {
    _ = try? await stopServer()
    try? FileManager.default.removeItem(atPath: directory)
  }
}
