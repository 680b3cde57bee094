import Foundation
import KPDocuments
import KPServiceKit
import KPTokens

/// `kp ingest PATH`: sends a directory's (or one file's) documents to the gateway in batches,
/// shows progress, follows the jobs, and ends with a summary. Resumable: files accepted by
/// an earlier run and unchanged since are not sent again.
enum IngestCommand {
  static let subcommand = Subcommand(
    words: ["ingest"],
    summary: "Send a directory's or a file's documents (HTML, Markdown, text, PDF, detected "
      + "by extension) to the knowledge store, with progress and a summary. Run it again to "
      + "resume or to send only what changed.",
    settings: [
      Setting(
        "source", help: "The documents' source name (default: the directory's name).",
        valueName: "name", default: ""),
      Setting(
        "groups",
        help: "Comma-separated groups that may see the documents (default: the whole tenant).",
        valueName: "list", default: ""),
      Setting(
        "users", help: "Comma-separated user ids that may see the documents.",
        valueName: "list", default: ""),
      Setting(
        "include", help: "Only files whose relative path matches this glob (such as '*.html').",
        valueName: "glob", default: ""),
      Setting(
        "restrict",
        help: "GLOB=group,...: files whose relative path matches GLOB are visible only to "
          + "those groups; the rest follow --groups/--users.",
        valueName: "rule", default: ""),
      Setting("batch-documents", help: "Documents per batch.", valueName: "n", default: "100"),
      Setting(
        "batch-bytes",
        help: "Bytes per batch as sent (JSON-encoded documents), at most "
          + "\(IngestRun.largestBatchBytes) to stay well under the platform's 4 MiB call frame.",
        valueName: "n", default: "2000000"),
      Setting(
        "max-document-bytes",
        help: "The largest file sent; larger ones are refused here, each on its own, and listed "
          + "with the refused documents (kp-ingest's --ingest-max-document-bytes, 2 MiB by "
          + "default); at most \(IngestRun.largestBatchBytes), as a document travels in one call "
          + "frame.", valueName: "n", default: "\(2 << 20)"),
      Setting(
        "state-file",
        help: "Where the resume state is kept (default: under "
          + "~/.cache/knowledgeplane/ingest).", valueName: "path", default: ""),
      Setting.switch("restart", help: "Forget the resume state and send every file."),
      Setting.switch("no-wait", help: "Return once the batches are accepted."),
    ] + ClientSettings.all,
    argumentsUsage: "<path>",
    notes: "Exit status: 0 when every document was stored or found unchanged, 1 when any was "
      + "refused (the summary lists them) or a job failed, 2 for a command line that cannot be "
      + "used."
  ) { configuration in
    try await IngestRun(configuration: configuration).run()
  }
}

/// One `kp ingest` run.
struct IngestRun {
  /// The most bytes one batch may take as sent: the gateway hands a batch to kp-ingest in one
  /// call frame of at most 4 MiB, and kp-ingest takes at most 3 MiB of content per batch.
  static let largestBatchBytes = 3_000_000
  /// The largest request body the gateway takes (its `--http-max-body-bytes` default).
  static let largestBodyBytes = 8 << 20

  let configuration: ServiceConfiguration
  let normalizers = try? DocumentNormalizerRegistry.standard()

  struct Batch {
    var files: [SourceFile] = []
    var documents: [[String: Any]] = []
    /// The documents' size as sent, JSON-encoded.
    var encodedSizes: [Int] = []

    /// The files' bytes.
    var bytes: Int { files.reduce(0) { $0 + $1.size } }
    /// The documents' bytes as sent.
    var encodedBytes: Int { encodedSizes.reduce(0, +) }

    /// The first and second half of the batch.
    func halves() -> (Batch, Batch) {
      let middle = files.count / 2
      func part(_ range: Range<Int>) -> Batch {
        Batch(
          files: Array(files[range]), documents: Array(documents[range]),
          encodedSizes: Array(encodedSizes[range]))
      }
      return (part(0..<middle), part(middle..<files.count))
    }
  }

  func run() async throws -> Int32 {
    let root = try Subcommand.single(configuration, "a file or directory")
    let client = try GatewayClient(configuration: configuration)
    let batchDocuments = try configuration.integer("batch-documents", in: 1...10_000)
    let batchBytes = try configuration.integer("batch-bytes", in: 1_000...Self.largestBatchBytes)
    let largestDocument = try configuration.integer(
      "max-document-bytes", in: 1...Self.largestBatchBytes)
    let restriction = try Self.restriction(configuration.value("restrict") ?? "")
    var (files, skipped) = try SourceFile.scan(root)
    if let pattern = configuration.value("include"), !pattern.isEmpty {
      files = files.filter { fnmatch(pattern, $0.relativePath, 0) == 0 }
    }
    let source = try sourceName(root)

    // The resume state belongs to this root, source, gateway and caller.
    let absolute = URL(fileURLWithPath: root).standardizedFileURL.path
    let identity = [client.address, absolute, source, try client.callerIdentity()]
      .joined(separator: "|")
    var statePath = configuration.value("state-file") ?? ""
    if statePath.isEmpty { statePath = IngestState.defaultPath(identity: identity) }
    // --restart sends every file, but what the state said before still goes into the keys.
    let restart = try configuration.isOn("restart")
    let previous =
      restart
      ? (try? IngestState.load(path: statePath)) ?? IngestState()
      : try IngestState.load(path: statePath)
    var state = restart ? IngestState() : previous

    // A file is sent again when its content, its source or who may see it changed.
    var records: [String: String] = [:]
    for file in files {
      records[file.relativePath] = Self.record(
        file, source: source, access: access(for: file, restriction: restriction))
    }
    let changed = files.filter { state.files[$0.relativePath] != records[$0.relativePath] }
    let unchanged = files.count - changed.count
    describe(files: files.count, unchanged: unchanged, skipped: skipped, source: source)
    let started = Date()

    // A file over the largest document the platform accepts is refused here, on its own.
    var refusedLocally: [JobShape.DocumentError] = changed.filter { $0.size > largestDocument }
      .map {
        .init(
          externalId: $0.relativePath, code: "too_large",
          message: "the file has \($0.size) bytes, over the largest document accepted "
            + "(\(largestDocument) bytes, --max-document-bytes); it was not sent")
      }
    let pending = changed.filter { $0.size <= largestDocument }

    // Send.
    var sentDocuments = 0
    var sentBytes = 0
    var jobs = state.pendingJobs
    let progress = ProgressLine("sending", total: changed.count)
    var batch = Batch()
    func send(_ part: Batch) async throws {
      let key = Self.idempotencyKey(
        identity: identity,
        records: part.files.map {
          (
            $0.relativePath, previous.files[$0.relativePath, default: ""],
            records[$0.relativePath, default: ""]
          )
        })
      let answer: SubmitShape
      do {
        answer = try await submit(client, part.documents, key: key)
      } catch {
        // A batch over the gateway's size limit is sent again in halves; a single document
        // over it can never be sent and is reported with the others refused.
        guard let refusal = error as? CLIError, refusal.code == "RESOURCE_EXHAUSTED",
          refusal.message.contains("per batch")
        else { throw error }
        if part.files.count > 1 {
          let (first, second) = part.halves()
          try await send(first)
          try await send(second)
        } else {
          refusedLocally.append(
            .init(
              externalId: part.files[0].relativePath, code: "too_large", message: refusal.message))
          progress.update(done: sentDocuments + refusedLocally.count, bytes: sentBytes)
        }
        return
      }
      if !jobs.contains(answer.jobId) { jobs.append(answer.jobId) }
      for file in part.files {
        state.files[file.relativePath] = records[file.relativePath, default: ""]
      }
      state.pendingJobs = jobs
      try state.save(path: statePath)
      sentDocuments += part.files.count
      sentBytes += part.bytes
      progress.update(done: sentDocuments + refusedLocally.count, bytes: sentBytes)
    }
    func flush() async throws {
      guard !batch.files.isEmpty else { return }
      try await send(batch)
      batch = Batch()
    }
    for file in pending {
      let document = try self.document(file, source: source, restriction: restriction)
      let size = Self.encodedSize(document)
      guard size <= Self.largestBodyBytes else {
        refusedLocally.append(
          .init(
            externalId: file.relativePath, code: "too_large",
            message: "the document takes \(size) bytes as JSON, over the gateway's request body "
              + "limit (\(Self.largestBodyBytes) bytes); it was not sent"))
        continue
      }
      if !batch.files.isEmpty
        && (batch.files.count >= batchDocuments || batch.encodedBytes + size > batchBytes)
      {
        try await flush()
      }
      batch.files.append(file)
      batch.documents.append(document)
      batch.encodedSizes.append(size)
    }
    try await flush()
    progress.finish(done: sentDocuments + refusedLocally.count, bytes: sentBytes)
    let sendSeconds = Date().timeIntervalSince(started)

    // Follow the jobs to their end.
    if try configuration.isOn("no-wait") {
      let ids = jobs.joined(separator: " ")
      print("accepted \(sentDocuments) documents in \(jobs.count) job(s): \(ids)")
      print("follow one with: kp jobs <job-id> --wait")
      if !refusedLocally.isEmpty {
        print("")
        Self.printRefused(refusedLocally)
        return 1
      }
      return 0
    }
    let finished = try await follow(client, jobs: jobs)
    let seconds = Date().timeIntervalSince(started)

    // Refused documents are sent again next time, once fixed.
    for job in finished {
      for error in job.errors ?? [] {
        if let id = error.externalId { state.files[id] = nil }
      }
    }
    state.pendingJobs = []
    try state.save(path: statePath)
    summarize(
      finished, refusedLocally: refusedLocally, sent: sentDocuments, bytes: sentBytes,
      unchanged: unchanged, sendSeconds: sendSeconds, seconds: seconds)
    let refused = !refusedLocally.isEmpty || finished.contains { ($0.failed ?? 0) > 0 }
    return refused || finished.contains { $0.state == "failed" } ? 1 : 0
  }

  // MARK: - Documents

  private func sourceName(_ root: String) throws -> String {
    if let given = configuration.value("source"), !given.isEmpty { return given }
    let url = URL(fileURLWithPath: root).standardizedFileURL
    var isDirectory: ObjCBool = false
    _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
    let name =
      isDirectory.boolValue
      ? url.lastPathComponent : url.deletingLastPathComponent().lastPathComponent
    return name.isEmpty || name == "/" ? "files" : name
  }

  private func document(
    _ file: SourceFile, source: String, restriction: (pattern: String, groups: [String])?
  ) throws -> [String: Any] {
    guard let data = FileManager.default.contents(atPath: file.path) else {
      throw CLIError.file("cannot read '\(file.path)'")
    }
    var document: [String: Any] = [
      "source": source, "external_id": file.relativePath, "content_type": file.contentType,
      "title": title(of: file, data),
      "url": URL(fileURLWithPath: file.path).absoluteString,
      "modified_at": ISO8601DateFormatter().string(
        from: Date(timeIntervalSince1970: Double(file.modified))),
    ]
    if file.contentType != "application/pdf", let text = String(validating: data, as: UTF8.self) {
      document["content"] = text
    } else {
      document["content_base64"] = data.base64EncodedString()
    }
    document["acl"] = access(for: file, restriction: restriction)
    return document
  }

  /// Who may see a file: the `--restrict` groups when its path matches the rule's glob, else
  /// `--groups` and `--users`, else the whole tenant.
  private func access(
    for file: SourceFile, restriction: (pattern: String, groups: [String])?
  ) -> [String: Any] {
    if let restriction, fnmatch(restriction.pattern, file.relativePath, 0) == 0 {
      return ["groups": restriction.groups]
    }
    let groups = Subcommand.list(configuration, "groups") ?? []
    let users = Subcommand.list(configuration, "users") ?? []
    return groups.isEmpty && users.isEmpty
      ? ["tenant_wide": true] : ["groups": groups, "users": users]
  }

  /// What the resume state remembers of a file: its fingerprint and a digest of its source and
  /// access list, so that a change of any of them sends the file again.
  static func record(_ file: SourceFile, source: String, access: [String: Any]) -> String {
    let described =
      (try? JSONSerialization.data(
        withJSONObject: ["source": source, "acl": access], options: [.sortedKeys]))
      .map { String(decoding: $0, as: UTF8.self) } ?? source
    return "\(file.fingerprint)|" + Hex.encode(SHA256.digest(described).prefix(8))
  }

  /// The title the document's own format gives (HTML `<title>` or first heading, Markdown's
  /// first heading, PDF metadata), read with the same normalisers ingest uses; else the file's
  /// name without its extension.
  private func title(of file: SourceFile, _ data: Data) -> String {
    let input = DocumentInput(contentType: file.contentType, data: Array(data))
    if let normalized = try? normalizers?.normalize(input), !normalized.title.isEmpty {
      return normalized.title
    }
    return URL(fileURLWithPath: file.relativePath).deletingPathExtension().lastPathComponent
  }

  private static func restriction(_ rule: String) throws -> (pattern: String, groups: [String])? {
    guard !rule.isEmpty else { return nil }
    let parts = rule.split(separator: "=", maxSplits: 1).map(String.init)
    let groups = parts.count == 2 ? parts[1].split(separator: ",").map(String.init) : []
    guard parts.count == 2, !parts[0].isEmpty, !groups.isEmpty else {
      throw CLIError.usage("--restrict must look like 'GLOB=group,...', such as 'sql-*=dba'")
    }
    return (parts[0], groups)
  }

  /// The same files with the same records (fingerprint, source and access list), replacing
  /// the same records of the resume state, always make the same key: a batch sent again after
  /// a crash is recognised by the gateway, while a batch that changes a file's content, source
  /// or access list, even back to what an earlier run sent, is a new one.
  private static func idempotencyKey(
    identity: String, records: [(path: String, previous: String, record: String)]
  ) -> String {
    let text =
      identity + "\n"
      + records.map { "\($0.path)\t\($0.previous)\t\($0.record)" }
      .joined(separator: "\n")
    return "kp-ingest-" + Hex.encode(SHA256.digest(text).prefix(20))
  }

  /// A document's size as sent: its JSON encoding.
  private static func encodedSize(_ document: [String: Any]) -> Int {
    (try? JSONSerialization.data(withJSONObject: document).count) ?? 0
  }

  // MARK: - Calls

  /// Submits one batch; waits out rate limits and retries unavailability a few times.
  private func submit(_ client: GatewayClient, _ documents: [[String: Any]], key: String)
    async throws -> SubmitShape
  {
    let retryable = ["RESOURCE_EXHAUSTED", "UNAVAILABLE", "DEADLINE_EXCEEDED", "TIMEOUT", "CLOSED"]
    var attempt = 0
    while true {
      attempt += 1
      let failure: CLIError
      do {
        return try client.request(
          SubmitShape.self, .post, "/v1/documents", body: ["documents": documents],
          headers: [("Idempotency-Key", key)])
      } catch {
        failure = error
      }
      // A quota is not a rate limit: waiting does not help.
      guard attempt < 8, retryable.contains(failure.code), !failure.message.contains("quota")
      else { throw failure }
      try await Task.sleep(for: .milliseconds(200 << min(attempt, 5)))
    }
  }

  /// Polls every job until it finishes, showing how many documents have been processed.
  private func follow(_ client: GatewayClient, jobs: [String]) async throws -> [JobShape] {
    var latest: [String: JobShape] = [:]
    let deadline = Date().addingTimeInterval(6 * 3600)
    var progress: ProgressLine?
    while Date() < deadline {
      for id in jobs where latest[id]?.isFinished != true {
        latest[id] = try job(client, id)
      }
      let total = latest.values.reduce(0) { $0 + ($1.total ?? 0) }
      let processed = latest.values.reduce(0) { $0 + ($1.processed ?? 0) }
      if progress == nil && total > 0 { progress = ProgressLine("storing", total: total) }
      progress?.update(done: processed, bytes: 0)
      if latest.count == jobs.count && latest.values.allSatisfy(\.isFinished) {
        progress?.finish(done: processed, bytes: 0)
        return jobs.compactMap { latest[$0] }
      }
      try await Task.sleep(for: .milliseconds(250))
    }
    throw CLIError(code: "TIMEOUT", message: "the ingest jobs did not finish within 6 hours")
  }

  /// A job's status; a job the gateway no longer knows counts as failed.
  private func job(_ client: GatewayClient, _ id: String) throws -> JobShape {
    let outcome = Result { () throws(CLIError) -> JobShape in
      try client.request(JobShape.self, .get, "/v1/jobs/\(GatewayClient.segment(id))")
    }
    switch outcome {
    case .success(let job):
      return job
    case .failure(let error) where error.code == "NOT_FOUND":
      return JobShape(
        jobId: id, state: "failed",
        errors: [.init(externalId: nil, code: "NOT_FOUND", message: error.message)])
    case .failure(let error):
      throw error
    }
  }

  // MARK: - Reporting

  private func describe(files: Int, unchanged: Int, skipped: [String: Int], source: String) {
    var line = "found \(files) document file(s) for source '\(source)'"
    if unchanged > 0 { line += "; \(unchanged) unchanged since the last run are skipped" }
    Output.note(line)
    if !skipped.isEmpty {
      let kinds = skipped.sorted { $0.value > $1.value }.prefix(6)
        .map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
      Output.note(
        "skipped \(skipped.values.reduce(0, +)) file(s) of types kp ingest does not send: \(kinds)")
    }
  }

  /// Lists refused documents, at most 20.
  private static func printRefused(_ errors: [JobShape.DocumentError]) {
    print("Refused documents (fix them and run kp ingest again to send them):")
    Output.table(
      ["DOCUMENT", "CODE", "REASON"],
      errors.prefix(20).map { [$0.externalId ?? "", $0.code ?? "", $0.message ?? ""] },
      maximum: 70)
    if errors.count > 20 { print("… and \(errors.count - 20) more (kp jobs <job-id>)") }
  }

  private func summarize(
    _ jobs: [JobShape], refusedLocally: [JobShape.DocumentError], sent: Int, bytes: Int,
    unchanged: Int, sendSeconds: Double, seconds: Double
  ) {
    let stored = jobs.reduce(0) { $0 + ($1.stored ?? 0) }
    let same = jobs.reduce(0) { $0 + ($1.unchanged ?? 0) }
    let refused = jobs.reduce(0) { $0 + ($1.failed ?? 0) } + refusedLocally.count
    let rate = seconds > 0 ? Double(sent) / seconds : 0
    print("")
    Output.fields([
      ("sent", "\(sent) documents, \(Output.bytes(bytes)) in \(jobs.count) job(s)"),
      ("stored", "\(stored) new or changed"),
      ("unchanged", "\(same) identical to the stored version, \(unchanged) skipped locally"),
      ("refused", "\(refused)"),
      ("jobs", jobs.isEmpty ? "none" : jobs.map(\.jobId).joined(separator: " ")),
      (
        "time",
        "\(Output.duration(seconds)) (sending \(Output.duration(sendSeconds))), "
          + String(format: "%.1f documents/s, ", rate)
          + "\(Output.bytes(Int(seconds > 0 ? Double(bytes) / seconds : 0)))/s"
      ),
    ])
    let errors = refusedLocally + jobs.flatMap { $0.errors ?? [] }
    if !errors.isEmpty {
      print("")
      Self.printRefused(errors)
    }
    if let failed = jobs.first(where: { $0.state == "failed" }) {
      print("job \(failed.jobId) failed; see: kp jobs \(failed.jobId)")
    }
  }
}
