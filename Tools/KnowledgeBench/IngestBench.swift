import Foundation
import KPDatabase
import KPDocuments
import KPProtocol
import KPRPC

/// bench/ingest: the PostgreSQL documentation's raw HTML pages submitted to a real kp-ingest,
/// normalised, chunked and stored by it in a real kp-knowledge, end to end; against a raw
/// `COPY` of the same normalised text into the same tables and index of another tenant, in the
/// same run; and, to tell the pipeline's share from the store's, the same normalised documents
/// upserted straight into kp-knowledge.
struct IngestBench {
  let setup: BenchSetup
  let documentation: String
  let rounds: Int
  let work: String

  /// One round's figures.
  struct Round {
    var ingestSeconds: Double
    var stored: Int
    var failed: Int
    var copySeconds: Double
    /// The normalised documents upserted straight into kp-knowledge, without kp-ingest.
    var upsertSeconds: Double
  }

  /// The figures of every round, with the corpus's sizes.
  struct Result {
    var documents: Int
    var rawMegabytes: Double
    var textMegabytes: Double
    var chunks: Int
    /// Reading, normalising and chunking the corpus once, on one thread, as kp-ingest does.
    var normaliseSeconds: Double
    var rounds: [Round]
  }

  func run() async throws -> Result {
    say("reading and normalising \(documentation) for the COPY peer")
    let names = try FileManager.default.contentsOfDirectory(atPath: documentation)
      .filter { $0.hasSuffix(".html") }.sorted()
    let raw = try names.map { try Data(contentsOf: URL(fileURLWithPath: documentation + "/" + $0)) }
    let normaliseStart = ContinuousClock.now
    let corpus = try Corpus.load(directory: documentation)
    let normaliseSeconds = Latency.milliseconds(since: normaliseStart) / 1000
    say("normalised and chunked in \(normaliseSeconds) s on one thread")

    let knowledge = try await setup.start("kp-knowledge", service: "knowledge", pool: 16)
    defer { knowledge.stop() }
    let ingest = try await setup.start(
      "kp-ingest", service: "ingest", pool: 16,
      extra: ["--knowledge-address", "127.0.0.1:\(knowledge.port)"])
    defer { ingest.stop() }
    let gateway = try setup.channel(as: "gateway", to: "ingest", port: ingest.port)
    let direct = try setup.channel(as: "ingest", to: "knowledge", port: knowledge.port)
    defer {
      gateway.close()
      direct.close()
    }

    var measured: [Round] = []
    for round in 0..<rounds {
      let ingestTenant = TenantScope.newTenantID()
      try await setup.provision(ingestTenant, slug: "ingest-\(round)")
      say("round \(round + 1): \(names.count) pages through kp-ingest")
      let (seconds, stored, failed) = try await ingestAll(
        names: names, raw: raw, tenant: ingestTenant, gateway: gateway)

      let copyTenant = TenantScope.newTenantID()
      try await setup.provision(copyTenant, slug: "copy-\(round)")
      say("round \(round + 1): COPY of the same normalised text")
      let copySeconds = try copy(corpus, tenant: copyTenant)

      let upsertTenant = TenantScope.newTenantID()
      try await setup.provision(upsertTenant, slug: "upsert-\(round)")
      say("round \(round + 1): the same normalised documents straight to UpsertDocuments")
      let upsertStart = ContinuousClock.now
      try await corpus.upsert(tenant: upsertTenant, through: direct)
      let upsertSeconds = Latency.milliseconds(since: upsertStart) / 1000
      measured.append(
        Round(
          ingestSeconds: seconds, stored: stored, failed: failed, copySeconds: copySeconds,
          upsertSeconds: upsertSeconds))
    }
    return Result(
      documents: names.count,
      rawMegabytes: Double(raw.reduce(0) { $0 + $1.count }) / 1_048_576,
      textMegabytes: Double(corpus.textBytes) / 1_048_576, chunks: corpus.chunkCount,
      normaliseSeconds: normaliseSeconds, rounds: measured)
  }

  /// Submits every page in batches (at most 200 pages and 2.5 MB each), then waits for every
  /// job to finish; returns the seconds from the first submit to the last job's end, and the
  /// documents stored and refused.
  private func ingestAll(
    names: [String], raw: [Data], tenant: String, gateway: RPCChannel
  ) async throws -> (seconds: Double, stored: Int, failed: Int) {
    var options = CallOptions()
    options.metadata.add(MetadataKey.tenant, tenant)
    var batches: [[Kp_Ingest_V1_IngestDocument]] = [[]]
    var batchBytes = 0
    for (index, name) in names.enumerated() {
      var document = Kp_Ingest_V1_IngestDocument()
      document.operation = .upsert
      document.source = "pgdocs"
      document.externalId = name
      document.url = "https://www.postgresql.org/docs/15/" + name
      document.contentType = "text/html"
      document.content = [UInt8](raw[index])
      let access = Corpus.access(index)
      document.tenantWide = access.tenantWide
      document.groups = access.groups
      if batches[batches.count - 1].count >= 200 || batchBytes + raw[index].count > 2_500_000 {
        batches.append([])
        batchBytes = 0
      }
      batches[batches.count - 1].append(document)
      batchBytes += raw[index].count
    }

    let start = ContinuousClock.now
    var pending: [String] = []
    for (number, batch) in batches.enumerated() {
      var request = Kp_Ingest_V1_SubmitBatchRequest()
      request.idempotencyKey = "bench-\(tenant)-\(number)"
      request.documents = batch
      pending.append(
        try await gateway.unary(Kp_Ingest_V1_Ingest.submitBatch, request, options: options).jobId)
    }
    say(
      "\(batches.count) batches accepted after \(Latency.milliseconds(since: start) / 1000) s")
    var stored = 0
    var failed = 0
    let deadline = ContinuousClock.now.advanced(by: .seconds(600))
    while !pending.isEmpty {
      guard ContinuousClock.now < deadline else {
        throw BenchError("\(pending.count) ingest jobs did not finish within 600 s")
      }
      var request = Kp_Ingest_V1_GetJobRequest()
      request.jobId = pending[0]
      let job =
        try await gateway.unary(Kp_Ingest_V1_Ingest.getJob, request, options: options).job
        ?? Kp_Ingest_V1_Job()
      if [.succeeded, .partiallyFailed, .failed].contains(job.state) {
        stored += Int(job.stored + job.unchanged)
        failed += Int(job.failed)
        pending.removeFirst()
      } else {
        try await Task.sleep(for: .milliseconds(20))
      }
    }
    return (Latency.milliseconds(since: start) / 1000, stored, failed)
  }

  /// Loads the normalised documents and their chunks with `COPY` (psql's `\copy`), in one
  /// transaction in the tenant's scope; returns the seconds it took.
  private func copy(_ corpus: Corpus, tenant: String) throws -> Double {
    let scope = try TenantScope(tenantID: tenant)
    var documents = ""
    var chunks = ""
    for (index, document) in corpus.documents.enumerated() {
      let id = String(format: "d%031d", index)
      let hash = ContentHash(title: document.title, text: document.text).hex
      let access = document.access ?? Kp_Knowledge_V1_AccessList()
      documents += Self.csv([
        id, document.source, document.externalId, document.title, document.url,
        document.contentType, document.text, access.tenantWide ? "t" : "f",
        SQLValues.textArray(access.users), SQLValues.textArray(access.groups), "\\x" + hash,
        "\(document.text.utf8.count)",
      ])
      for (ordinal, chunk) in document.chunks.enumerated() {
        chunks += Self.csv([
          id, "\(ordinal)", SQLValues.textArray(chunk.headingPath), chunk.text, document.title,
          chunk.headingPath.joined(separator: "\n"),
        ])
      }
    }
    let documentFile = work + "/documents.csv"
    let chunkFile = work + "/chunks.csv"
    try Data(documents.utf8).write(to: URL(fileURLWithPath: documentFile))
    try Data(chunks.utf8).write(to: URL(fileURLWithPath: chunkFile))
    let documentColumns =
      "id, source, external_id, title, url, content_type, text, acl_tenant_wide, acl_users, "
      + "acl_groups, content_hash, bytes"
    let chunkColumns = "document_id, ordinal, heading_path, text, search_title, search_headings"
    let script = """
      \\set ON_ERROR_STOP on
      BEGIN;
      SET LOCAL ROLE \(scope.role.quoted);
      SET LOCAL search_path TO \(scope.schema.quoted);
      \\copy documents (\(documentColumns)) FROM '\(documentFile)' WITH (FORMAT csv)
      \\copy chunks (\(chunkColumns)) FROM '\(chunkFile)' WITH (FORMAT csv)
      COMMIT;
      """
    let scriptFile = work + "/copy.sql"
    try Data(script.utf8).write(to: URL(fileURLWithPath: scriptFile))

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["psql", "-X", "-q", "-d", setup.databaseURL, "-f", scriptFile]
    let start = ContinuousClock.now
    try process.run()
    process.waitUntilExit()
    let seconds = Latency.milliseconds(since: start) / 1000
    guard process.terminationStatus == 0 else {
      throw BenchError("the COPY peer failed (psql status \(process.terminationStatus))")
    }
    return seconds
  }

  /// One CSV line: every field quoted, quotes doubled.
  private static func csv(_ fields: [String]) -> String {
    fields.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
      .joined(separator: ",") + "\n"
  }
}
