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

  /// Initialises a fresh cluster in `name` next to the project's cluster and starts it on the
  /// first free port of `candidates` that lies outside the kernel's ephemeral range.
  ///
  /// A port inside that range can be taken at any moment by another test's listener on port 0 or
  /// by an outgoing connection, which would make the start, or a restart during the test, fail
  /// with "Address already in use".
  static func start(name: String, candidates: ClosedRange<Int> = 25470...25489) async throws
    -> DedicatedCluster
  {
    let printed = try await ScriptRunner.run("scripts/postgres", ["env"])
    let prefix = "export KP_PG_DIR="
    guard
      let line = printed.output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) })
    else {
      throw DatabaseError(code: .connectionFailed, message: "scripts/postgres env: no KP_PG_DIR")
    }
    let shared = URL(fileURLWithPath: String(line.dropFirst(prefix.count)))
    let directory = shared.deletingLastPathComponent().appendingPathComponent(name).path

    let ephemeral = ephemeralPorts()
    var lastError: (any Error)?
    for port in candidates where !ephemeral.contains(port) {
      let cluster = DedicatedCluster(port: port, directory: directory)
      // A cluster left by an interrupted run is replaced by a fresh one.
      await cluster.remove()
      do {
        try await cluster.startServer()
        return cluster
      } catch let error as DatabaseError where error.message.contains("Address already in use") {
        lastError = error
      }
    }
    await DedicatedCluster(port: candidates.lowerBound, directory: directory).remove()
    throw lastError
      ?? DatabaseError(
        code: .connectionFailed,
        message: "no port of \(candidates) lies outside the ephemeral range \(ephemeral)")
  }

  /// The kernel's range of ports for outgoing connections and listeners on port 0.
  static func ephemeralPorts() -> ClosedRange<Int> {
    let path = "/proc/sys/net/ipv4/ip_local_port_range"
    let bounds = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
      .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
      .compactMap { Int($0) }
    guard bounds.count == 2, bounds[0] <= bounds[1] else { return 32768...60999 }
    return bounds[0]...bounds[1]
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
