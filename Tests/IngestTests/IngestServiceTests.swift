import Foundation
import KPProtocol
import KPRPC
import Testing

@testable import Ingest

/// kp-ingest end to end: real PostgreSQL, the service over mutual TLS, and a real kp-knowledge
/// process behind it.
@Suite("kp-ingest over mutual TLS", .serialized)
struct IngestServiceTests {
  typealias Harness = IngestHarness

  /// Expects `body` to fail with `code`, and returns the message.
  @discardableResult
  static func expectError(
    _ code: RPCError.Code, _ body: () async throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
  ) async -> String {
    do {
      try await body()
      Issue.record("expected \(code), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as RPCError {
      #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
      return error.message
    } catch {
      Issue.record("expected RPCError \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return ""
  }

  @Test("a submitted batch is processed and its documents become searchable")
  func submitAndSearch() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant("acme")
      let response = try await harness.submit(
        tenant, key: "batch-1",
        [
          Harness.document("notes", "The aurora rollout finished on Tuesday."),
          Harness.document(
            "guide", "# Deployment guide\n\n## Canary\n\nShip the zeppelin build first.",
            type: "text/markdown"),
          Harness.document(
            "page",
            "<html><head><title>Runbook</title></head><body><nav>Menu</nav>"
              + "<main><p>Restart the quasar service.</p></main></body></html>",
            type: "text/html; charset=utf-8"),
        ])
      #expect(!response.jobId.isEmpty && !response.duplicate)
      let job = try await harness.finished(tenant, response.jobId)
      #expect(job.state == .succeeded)
      #expect(job.total == 3 && job.processed == 3 && job.stored == 3)
      #expect(job.unchanged == 0 && job.failed == 0 && job.errors.isEmpty)
      #expect(job.submittedAtMicros > 0 && job.finishedAtMicros >= job.submittedAtMicros)

      #expect(try await harness.search(tenant, "aurora").hits.count == 1)
      let zeppelin = try await harness.search(tenant, "zeppelin").hits
      #expect(zeppelin.map(\.title) == ["Deployment guide"])
      #expect(try await harness.search(tenant, "quasar").hits.map(\.title) == ["Runbook"])
      let stats = try await harness.stats(tenant)
      #expect(stats.documents == 3)

      // The queue keeps outcomes, not content, once a job is done.
      let kept = try await harness.tenantQuery(
        tenant, "SELECT count(*) FROM ingest_items WHERE document IS NOT NULL")
      #expect(kept.first?[0] == "0")
      let pending = try await harness.platformQuery("SELECT count(*) FROM kp_ingest.pending_jobs")
      #expect(pending.first?[0] == "0")
    }
  }

  @Test("a retried submit returns the first job; a key reused for another batch is refused")
  func idempotentResubmit() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant("acme")
      let batch = [Harness.document("a", "Idempotent submissions are safe.")]
      let first = try await harness.submit(tenant, key: "retry-me", batch)
      let second = try await harness.submit(tenant, key: "retry-me", batch)
      #expect(second.jobId == first.jobId && second.duplicate)
      let finished = try await harness.finished(tenant, first.jobId)
      #expect(finished.state == .succeeded && finished.stored == 1)
      let third = try await harness.submit(tenant, key: "retry-me", batch)
      #expect(third.jobId == first.jobId && third.duplicate)
      let jobs = try await harness.tenantQuery(tenant, "SELECT count(*) FROM ingest_jobs")
      #expect(jobs.first?[0] == "1")

      let message = await Self.expectError(.invalidArgument) {
        try await harness.submit(
          tenant, key: "retry-me", [Harness.document("b", "A different batch.")])
      }
      #expect(message.contains("idempotency_key"))
      await Self.expectError(.invalidArgument) {
        try await harness.submit(tenant, key: "", batch)
      }
    }
  }

  @Test("unchanged content is a no-op, changed content replaces, a delete removes at once")
  func unchangedChangedDeleted() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant("acme")
      let first = try await harness.ingest(
        tenant, key: "v1", [Harness.document("doc", "Version one mentions walrus.")])
      #expect(first.stored == 1)
      let before = try #require(try await harness.stored(tenant, "doc"))

      let same = try await harness.ingest(
        tenant, key: "v1-again", [Harness.document("doc", "Version one mentions walrus.")])
      #expect(same.state == .succeeded && same.unchanged == 1 && same.stored == 0)
      #expect(try await harness.stored(tenant, "doc")?.version == before.version)

      let changed = try await harness.ingest(
        tenant, key: "v2", [Harness.document("doc", "Version two mentions narwhal.")])
      #expect(changed.stored == 1 && changed.unchanged == 0)
      let after = try #require(try await harness.stored(tenant, "doc"))
      #expect(after.id == before.id && after.version == before.version + 1)
      #expect(try await harness.search(tenant, "walrus").hits.isEmpty)
      #expect(try await harness.search(tenant, "narwhal").hits.count == 1)
      #expect(try await harness.stats(tenant).documents == 1)

      let deleted = try await harness.ingest(tenant, key: "gone", [Harness.deletion("doc")])
      #expect(deleted.state == .succeeded && deleted.processed == 1 && deleted.failed == 0)
      #expect(try await harness.search(tenant, "narwhal").hits.isEmpty)
      #expect(try await harness.stats(tenant).documents == 0)

      // Order within a batch holds: stored, then deleted, then stored again.
      let mixed = try await harness.ingest(
        tenant, key: "mixed",
        [
          Harness.document("x", "Ocelot first."), Harness.deletion("x"),
          Harness.document("x", "Ocelot again, with lynx."),
        ])
      #expect(mixed.state == .succeeded && mixed.processed == 3 && mixed.stored == 2)
      #expect(try await harness.stored(tenant, "x")?.text == "Ocelot again, with lynx.")
    }
  }

  @Test("a call without a tenant, for an unknown tenant, or from another service is refused")
  func tenantAndCaller() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant("acme")
      let batch = [Harness.document("a", "Text.")]
      let message = await Self.expectError(.invalidArgument) {
        try await harness.submit(nil, key: "k", batch)
      }
      #expect(message.contains("kp-tenant"))
      await Self.expectError(.invalidArgument) { _ = try await harness.job(nil, "j1") }
      await Self.expectError(.notFound) {
        try await harness.submit("tunknowntenantunknowntenant", key: "k", batch)
      }
      await Self.expectError(.notFound) {
        try await harness.submit("not-a-tenant-id", key: "k", batch)
      }
      let jobs = try await harness.tenantQuery(tenant, "SELECT count(*) FROM ingest_jobs")
      #expect(jobs.first?[0] == "0")

      let cli = try harness.mesh.channel(from: "cli", to: "ingest", ports: [harness.server.port])
      defer { cli.close() }
      var request = Kp_Ingest_V1_SubmitBatchRequest()
      request.idempotencyKey = "k"
      request.documents = batch
      await Self.expectError(.permissionDenied) {
        _ = try await cli.unary(
          Kp_Ingest_V1_Ingest.submitBatch, request, options: Harness.options(tenant))
      }
    }
  }

  @Test("a job of another tenant is not found")
  func crossTenantJob() async throws {
    try await Harness.with { harness in
      let acme = try await harness.makeTenant("acme")
      let globex = try await harness.makeTenant("globex")
      let response = try await harness.submit(
        acme, key: "k", [Harness.document("a", "Acme's private plans.")])
      _ = try await harness.finished(acme, response.jobId)
      await Self.expectError(.notFound) { _ = try await harness.job(globex, response.jobId) }
      await Self.expectError(.notFound) { _ = try await harness.job(acme, "jnosuchjob") }
      // The same key in another tenant is another job.
      let other = try await harness.submit(
        globex, key: "k", [Harness.document("a", "Globex's plans.")])
      #expect(other.jobId != response.jobId && !other.duplicate)
      _ = try await harness.finished(globex, other.jobId)
      #expect(try await harness.search(globex, "acme").hits.isEmpty)
    }
  }

  @Test("batch limits on count and bytes come from configuration and are named")
  func batchLimits() async throws {
    var options = Harness.testOptions
    options.maximumBatchDocuments = 3
    options.maximumBatchBytes = 1_000
    try await Harness.with(options: options) { harness in
      let tenant = try await harness.makeTenant("acme")
      let many = (0..<4).map { Harness.document("d\($0)", "Text \($0).") }
      let count = await Self.expectError(.invalidArgument) {
        try await harness.submit(tenant, key: "many", many)
      }
      #expect(count.contains("max-batch-documents") && count.contains("4"))
      let big = [Harness.document("big", String(repeating: "word ", count: 300))]
      let bytes = await Self.expectError(.resourceExhausted) {
        try await harness.submit(tenant, key: "big", big)
      }
      #expect(bytes.contains("max-batch-bytes") && bytes.contains("1000"))
      let jobs = try await harness.tenantQuery(tenant, "SELECT count(*) FROM ingest_jobs")
      #expect(jobs.first?[0] == "0")
    }
  }

  @Test("plan quotas: a batch that obviously exceeds is refused; documents past one fail alone")
  func quotas() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant(
        "acme", maximumDocuments: 3, maximumStoredBytes: 200)
      let five = (0..<5).map { Harness.document("d\($0)", "Short text \($0).") }
      let message = await Self.expectError(.resourceExhausted) {
        try await harness.submit(tenant, key: "five", five)
      }
      #expect(message.contains("max_documents") && message.contains("3"))

      let two = try await harness.ingest(
        tenant, key: "two", [Harness.document("a", "Alpha."), Harness.document("b", "Beta.")])
      #expect(two.stored == 2)
      let next = try await harness.ingest(
        tenant, key: "next",
        [
          Harness.document("c", "Gamma."), Harness.document("d", "Delta."),
          Harness.document("a", "Alpha, updated at the quota."),
        ])
      #expect(next.state == .partiallyFailed)
      #expect(next.stored == 2 && next.failed == 1 && next.processed == 3)
      let refused = try #require(next.errors.first)
      #expect(refused.externalId == "d" && refused.code == "quota_exceeded")
      #expect(refused.message.contains("max_documents"))
      #expect(try await harness.stats(tenant).documents == 3)
      #expect(try await harness.stored(tenant, "a")?.text == "Alpha, updated at the quota.")

      let bulky = try await harness.ingest(
        tenant, key: "bulky", [Harness.document("a", String(repeating: "grow ", count: 60))])
      #expect(bulky.failed == 1 && bulky.errors.first?.code == "quota_exceeded")
      #expect(bulky.errors.first?.message.contains("max_stored_bytes") == true)
    }
  }

  @Test("pages stored side by side keep the quotas and the order of a repeated document")
  func pagesSideBySide() async throws {
    try await Harness.with { harness in
      // Five stored first; then pages of 10, 50 and 40: the second fits beside the first, the
      // third does not (it could pass the quota of 100) and waits, then fits only 35 more.
      let tenant = try await harness.makeTenant(
        "acme", maximumDocuments: 100, maximumStoredBytes: 1_000_000)
      let first = (0..<5).map { Harness.document("f\($0)", "First document \($0).") }
      #expect(try await harness.ingest(tenant, key: "first", first).stored == 5)
      let many = (0..<100).map { Harness.document("d\($0)", "Document number \($0).") }
      let job = try await harness.ingest(tenant, key: "many", many)
      #expect(job.state == .partiallyFailed)
      #expect(job.stored == 95 && job.failed == 5 && job.processed == 100)
      #expect(job.errors.allSatisfy { $0.code == "quota_exceeded" })
      #expect(Set(job.errors.map(\.externalId)) == Set((95..<100).map { "d\($0)" }))
      #expect(try await harness.stats(tenant).documents == 100)

      // The same document in the first and a later page: the later version wins.
      let other = try await harness.makeTenant("globex")
      var repeated = (0..<70).map { Harness.document("r\($0)", "Version one of \($0).") }
      repeated[65] = Harness.document("r3", "Version two of 3.")
      let again = try await harness.ingest(other, key: "repeated", repeated)
      #expect(again.failed == 0 && again.processed == 70)
      #expect(try await harness.stored(other, "r3")?.text == "Version two of 3.")
      #expect(try await harness.stats(other).documents == 69)
    }
  }

  @Test("a job that keeps failing is retried with backoff, then parked with its error")
  func parkedAfterRetries() async throws {
    var options = Harness.testOptions
    options.maximumAttempts = 3
    try await Harness.with(options: options, knowledgeReachable: false) { harness in
      let tenant = try await harness.makeTenant("acme")
      let response = try await harness.submit(
        tenant, key: "doomed", [Harness.document("a", "Never stored.")])
      let job = try await harness.finished(tenant, response.jobId, timeout: .seconds(60))
      #expect(job.state == .failed)
      #expect(job.processed == 0 && job.total == 1)
      let error = try #require(job.errors.first)
      #expect(error.code == "job_failed" && error.externalId.isEmpty)
      #expect(error.message.contains("knowledge store"))
      let attempts = try await harness.tenantQuery(
        tenant, "SELECT attempts FROM ingest_jobs WHERE id = $1", [response.jobId])
      #expect(attempts.first?[0] == "3")
      let pending = try await harness.platformQuery("SELECT count(*) FROM kp_ingest.pending_jobs")
      #expect(pending.first?[0] == "0")
    }
  }

  @Test("a job committed but never indexed is found by the start-up sweep")
  func sweepFindsStrandedJobs() async throws {
    try await Harness.with(startWorker: false) { harness in
      let tenant = try await harness.makeTenant("acme")
      let response = try await harness.submit(
        tenant, key: "stranded", [Harness.document("a", "Stranded pelican.")])
      // As if the process died between the job's commit and its index row.
      try await harness.platformQuery("DELETE FROM kp_ingest.pending_jobs")
      #expect(try await harness.job(tenant, response.jobId).state == .queued)
      harness.startWorker()
      let job = try await harness.finished(tenant, response.jobId)
      #expect(job.state == .succeeded && job.stored == 1)
      #expect(try await harness.search(tenant, "pelican").hits.count == 1)
    }
  }

  @Test("retry backoff doubles up to its cap")
  func backoff() {
    let backoff = RetryBackoff(initial: .milliseconds(100), maximum: .seconds(1))
    #expect(backoff.ceiling(afterAttempt: 1) == .milliseconds(100))
    #expect(backoff.ceiling(afterAttempt: 2) == .milliseconds(200))
    #expect(backoff.ceiling(afterAttempt: 4) == .milliseconds(800))
    #expect(backoff.ceiling(afterAttempt: 5) == .seconds(1))
    #expect(backoff.ceiling(afterAttempt: 500) == .seconds(1))
    let delay = backoff.delay(afterAttempt: 3)
    #expect(delay >= .milliseconds(320) && delay <= .milliseconds(400))
  }
}
