import Foundation
import KPProtocol
import KPRPC
import KPTesting
import Synchronization
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Exactly once in effect: 5,000 documents ingested while kp-ingest and kp-knowledge are killed
/// with SIGKILL at random moments, or while PostgreSQL restarts, are all stored, once each, and
/// all searchable.
@Suite("kp-ingest crash safety", .serialized)
struct IngestCrashTests {
  static let batches = 50
  static let batchSize = 100
  static var documentCount: Int { batches * batchSize }

  /// How far the submitting has come, shared with the task that disrupts the services.
  final class Progress: Sendable {
    let submitted = Mutex(0)
    let finished = Mutex(false)
  }

  /// Submits every batch (retrying each with its key until accepted) while `disrupt` runs,
  /// waits for the queue to empty, and checks that every document was stored exactly once.
  private static func ingestAll(
    _ mesh: CrashMesh, label: String,
    disrupt: @escaping @Sendable (CrashMesh, Progress) async throws -> [String]
  ) async throws {
    let started = ContinuousClock.now
    let progress = Progress()
    let disruption = Task { try await disrupt(mesh, progress) }
    var jobs = Set<String>()
    var retried = 0
    var duplicates = 0
    for batch in 0..<batches {
      let documents = (batch * batchSize..<(batch + 1) * batchSize).map(CrashMesh.document)
      let accepted = try await mesh.submitUntilAccepted(key: "crash-batch-\(batch)", documents)
      jobs.insert(accepted.response.jobId)
      if accepted.calls > 1 { retried += 1 }
      if accepted.response.duplicate { duplicates += 1 }
      progress.submitted.withLock { $0 += 1 }
      // A short pause, so disruptions land while batches are still arriving.
      try await Task.sleep(for: .milliseconds(Int.random(in: 0...80)))
    }
    progress.finished.withLock { $0 = true }
    let submittedAfter = started.duration(to: .now)
    let events = try await disruption.value
    let quiet = try await mesh.waitForQuietQueue(timeout: .seconds(90))
    let doneAfter = started.duration(to: .now)
    print(
      "\(label): \(documentCount) documents in \(batches) batches; submitted after "
        + "\(submittedAfter), all processed after \(doneAfter); \(retried) submits retried, "
        + "\(duplicates) answered as duplicates; disruptions: " + events.joined(separator: ", "))
    #expect(quiet, "jobs still unfinished after the wait")
    #expect(jobs.count == batches)
    try await verifyExactlyOnce(mesh)
  }

  /// Checks the tenant's tables, the knowledge store's statistics and search.
  private static func verifyExactlyOnce(_ mesh: CrashMesh) async throws {
    let total = documentCount
    #expect(try await mesh.tenantCount("SELECT count(*) FROM documents") == total)
    #expect(
      try await mesh.tenantCount("SELECT count(DISTINCT (source, external_id)) FROM documents")
        == total)
    // A document stored twice would have been replaced: version 2.
    #expect(try await mesh.tenantCount("SELECT count(*) FROM documents WHERE version <> 1") == 0)
    #expect(try await mesh.tenantCount("SELECT count(*) FROM chunks") == total)
    #expect(
      try await mesh.tenantCount(
        "SELECT value FROM usage_counters WHERE name = 'documents'") == total)
    #expect(
      try await mesh.tenantCount(
        "SELECT count(*) FROM chunks WHERE search @@ to_tsquery('english', 'resilient')")
        == total)
    #expect(try await mesh.tenantCount("SELECT count(*) FROM ingest_jobs") == batches)
    #expect(
      try await mesh.tenantCount("SELECT count(*) FROM ingest_jobs WHERE state = 'succeeded'")
        == batches)
    #expect(
      try await mesh.tenantCount(
        "SELECT count(*) FROM ingest_items WHERE outcome IN ('stored', 'unchanged')") == total)

    let stats = try await mesh.stats()
    #expect(stats.documents == UInt64(total) && stats.chunks == UInt64(total))
    #expect(try await mesh.search("resilient").hits.count > 0)
    for number in (0..<10).map({ _ in Int.random(in: 0..<total) }) {
      let hits = try await mesh.search(CrashMesh.token(number)).hits
      #expect(hits.map(\.title) == ["Document \(number)"], "document \(number)")
    }
  }

  @Test("5,000 documents while kp-ingest and kp-knowledge are killed with SIGKILL at random")
  func killedServices() async throws {
    try await PostgresFixture.withDatabase { url in
      try await CrashMesh.with(url: url) { mesh in
        try await Self.ingestAll(mesh, label: "SIGKILL test") { mesh, progress in
          var events: [String] = []
          let started = ContinuousClock.now
          // At most 12 kills, a few after the last submit so processing is hit too.
          while events.count < 12 {
            try await Task.sleep(for: .milliseconds(Int.random(in: 250...1_000)))
            if progress.finished.withLock({ $0 }) && events.count >= 8 { break }
            let at = started.duration(to: .now)
            switch Int.random(in: 0..<3) {
            case 0:
              try await mesh.killIngest()
              events.append("ingest at \(at)")
            case 1:
              try await mesh.killKnowledge()
              events.append("knowledge at \(at)")
            default:
              try await mesh.killKnowledge()
              try await mesh.killIngest()
              events.append("both at \(at)")
            }
          }
          return events
        }
      }
    }
  }

  @Test("5,000 documents while PostgreSQL is restarted mid-ingest")
  func restartedDatabase() async throws {
    let cluster = try await DedicatedCluster.start(name: "postgres-ingest-crash")
    do {
      try await CrashMesh.with(url: cluster.url) { mesh in
        try await Self.ingestAll(mesh, label: "PostgreSQL restart test") { _, progress in
          let started = ContinuousClock.now
          while progress.submitted.withLock({ $0 }) < Self.batches / 3 {
            try await Task.sleep(for: .milliseconds(100))
          }
          let stoppedAt = started.duration(to: .now)
          try await cluster.stopServer()
          try await Task.sleep(for: .seconds(2))
          try await cluster.startServer()
          return ["stopped at \(stoppedAt), running again at \(started.duration(to: .now))"]
        }
      }
    } catch {
      await cluster.remove()
      throw error
    }
    await cluster.remove()
  }
}
