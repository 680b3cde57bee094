import Foundation
import KPTokens

/// What `kp ingest` has already handed to the gateway for one root, source and tenant, so an
/// interrupted or repeated run sends only what is new or changed.
///
/// Kept as JSON under `~/.cache/knowledgeplane/ingest/`, written atomically after every
/// accepted batch: a crash loses at most the batch in flight, which is sent again with the
/// same idempotency key and so accepted once.
struct IngestState: Codable {
  /// What was accepted of each file, by relative path: its fingerprint (`size:mtime`) and a
  /// digest of the source and access list it was sent with (`IngestRun.record`).
  var files: [String: String] = [:]
  /// Jobs accepted and not yet seen finished.
  var pendingJobs: [String] = []

  /// The default state file for a run.
  static func defaultPath(identity: String) -> String {
    let environment = ProcessInfo.processInfo.environment
    let base =
      environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
      ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.cache")
    let name = Hex.encode(SHA256.digest(identity)).prefix(24)
    return "\(base)/knowledgeplane/ingest/\(name).json"
  }

  /// Reads the state; empty when the file does not exist.
  static func load(path: String) throws -> IngestState {
    guard FileManager.default.fileExists(atPath: path) else { return IngestState() }
    do {
      return try JSONDecoder().decode(
        IngestState.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    } catch {
      throw CLIError.file(
        "the resume state \(path) cannot be read (\(error.localizedDescription)); remove it "
          + "or pass --restart")
    }
  }

  /// Writes the state atomically.
  func save(path: String) throws {
    let url = URL(fileURLWithPath: path)
    do {
      try FileManager.default.createDirectory(
        at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try JSONEncoder().encode(self).write(to: url, options: .atomic)
    } catch {
      throw CLIError.file("cannot write the resume state \(path): \(error.localizedDescription)")
    }
  }
}
