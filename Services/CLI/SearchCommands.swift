import Foundation
import KPServiceKit

/// `kp search`, `kp jobs`, `kp audit` and `kp stats`: what users and tenant
/// administrators read.
enum SearchCommands {
  static let all: [Subcommand] = [search, jobs, audit, stats, document]

  static let search = Subcommand(
    words: ["search"],
    summary: "Search the tenant's documents you may see. Quoted phrases, OR and -exclusion "
      + "work as in a web search.",
    settings: [
      Setting("limit", help: "Results per page (1-100).", valueName: "n", default: "10"),
      Setting("offset", help: "Results to skip (0-10000).", valueName: "n", default: "0"),
      Setting("source", help: "Only documents of this source.", valueName: "name", default: ""),
      Setting(
        "content-type", help: "Only documents of this media type.", valueName: "type",
        default: ""),
    ] + ClientSettings.all,
    argumentsUsage: "<query…>"
  ) { configuration in
    let query = configuration.arguments.joined(separator: " ")
    guard !query.trimmingCharacters(in: .whitespaces).isEmpty else {
      throw CLIError.usage("a query is required, such as: kp search \"vacuum full\"")
    }
    // The gateway's ranges (docs/api.md), checked here so a typo is a usage error.
    let limit = try configuration.integer("limit", in: 1...100)
    let offset = try configuration.integer("offset", in: 0...10_000)
    let client = try GatewayClient(configuration: configuration)
    _ = try client.credential()
    let started = ContinuousClock.now
    let data = try client.request(
      .get, "/v1/search",
      query: [
        ("q", query), ("limit", "\(limit)"), ("offset", "\(offset)"),
        ("source", configuration.value("source") ?? ""),
        ("content_type", configuration.value("content-type") ?? ""),
      ])
    if try configuration.isOn("json") {
      Output.json(data)
      return 0
    }
    let elapsed = ContinuousClock.now - started
    let page = try APIJSON.decoder.decode(SearchShape.self, from: data)
    printResults(page, query: query, offset: offset)
    let milliseconds =
      Double(elapsed.components.seconds) * 1000
      + Double(elapsed.components.attoseconds) / 1e15
    print("")
    print(String(format: "(answered in %.1f ms)", milliseconds))
    return 0
  }

  /// Prints hits as a person reads them: rank, title, source and address, then the snippet
  /// with the matched words highlighted (bold on a terminal).
  static func printResults(_ page: SearchShape, query: String, offset: Int) {
    let total = page.total ?? page.results.count
    guard !page.results.isEmpty else {
      print("No documents match \"\(query)\" (\(total) in all).")
      return
    }
    let first = offset + 1
    print(
      "\(total) document\(total == 1 ? "" : "s") match \"\(query)\"; showing \(first)-"
        + "\(offset + page.results.count):")
    let bold = isatty(STDOUT_FILENO) != 0
    for (index, hit) in page.results.enumerated() {
      print("")
      let score = hit.score.map { String(format: "%.3f", $0) } ?? "-"
      print("\(first + index). \(hit.title ?? "(untitled)")  [\(hit.source ?? "")]  score \(score)")
      if let url = hit.url, !url.isEmpty { print("   \(url)") }
      let snippet = highlight(hit.snippet ?? "", bold: bold)
      for line in wrap(snippet, width: 96) { print("   \(line)") }
    }
  }

  /// The snippet for a terminal: its `<mark>` highlighting as bold (or removed), its escaped
  /// characters as themselves, and no control characters from the document (which could move
  /// the cursor or recolour the terminal).
  static func highlight(_ snippet: String, bold: Bool) -> String {
    var text = ""
    var rest = Substring(Output.terminalSafe(snippet, keepingLineBreaks: false))
    let entities = ["&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": "\"", "&#39;": "'"]
    while let character = rest.first {
      if rest.hasPrefix("<mark>") {
        text += bold ? "\u{1B}[1m" : ""
        rest = rest.dropFirst(6)
      } else if rest.hasPrefix("</mark>") {
        text += bold ? "\u{1B}[0m" : ""
        rest = rest.dropFirst(7)
      } else if character == "&",
        let (entity, value) = entities.first(where: { rest.hasPrefix($0.key) })
      {
        text += value
        rest = rest.dropFirst(entity.count)
      } else {
        text.append(character)
        rest = rest.dropFirst()
      }
    }
    return text
  }

  /// Breaks text into lines of at most `width` visible characters at spaces.
  static func wrap(_ text: String, width: Int) -> [String] {
    var lines: [String] = []
    var line = ""
    var visible = 0
    for word in text.split(separator: " ", omittingEmptySubsequences: true) {
      let length = word.filter { $0 != "\u{1B}" }.count
      if visible > 0 && visible + 1 + length > width {
        lines.append(line)
        line = ""
        visible = 0
      }
      line += (visible > 0 ? " " : "") + word
      visible += (visible > 0 ? 1 : 0) + length
    }
    if !line.isEmpty { lines.append(line) }
    return lines
  }

  static let jobs = Subcommand(
    words: ["jobs"], summary: "Show an ingest job's progress and the documents it refused.",
    settings: [
      Setting.switch("wait", help: "Follow the job until it finishes.")
    ] + ClientSettings.all,
    argumentsUsage: "<job-id>"
  ) { configuration in
    let id = try Subcommand.single(configuration, "a job id")
    let client = try GatewayClient(configuration: configuration)
    var job = try client.request(JobShape.self, .get, "/v1/jobs/\(GatewayClient.segment(id))")
    if try configuration.isOn("wait") {
      let deadline = Date().addingTimeInterval(3600)
      while !job.isFinished && Date() < deadline {
        try await Task.sleep(for: .milliseconds(500))
        job = try client.request(JobShape.self, .get, "/v1/jobs/\(GatewayClient.segment(id))")
      }
    }
    if try configuration.isOn("json") {
      Output.json(try client.request(.get, "/v1/jobs/\(GatewayClient.segment(id))"))
      return 0
    }
    printJob(job)
    return job.state == "failed" ? 1 : 0
  }

  /// Prints a job's state, counts and refused documents.
  static func printJob(_ job: JobShape) {
    Output.fields([
      ("job", job.jobId), ("state", job.state),
      ("documents", "\(job.processed ?? 0) of \(job.total ?? 0) processed"),
      ("stored", "\(job.stored ?? 0)"), ("unchanged", "\(job.unchanged ?? 0)"),
      ("refused", "\(job.failed ?? 0)"), ("submitted", job.submittedAt ?? ""),
      ("finished", job.finishedAt ?? "-"),
    ])
    let errors = job.errors ?? []
    if !errors.isEmpty {
      print("")
      Output.table(
        ["DOCUMENT", "CODE", "REASON"],
        errors.map { [$0.externalId ?? "", $0.code ?? "", $0.message ?? ""] }, maximum: 70)
    }
  }

  static let audit = Subcommand(
    words: ["audit"], summary: "Show the tenant's audit log, newest first.",
    settings: [
      Setting("limit", help: "Events to show (1-1000).", valueName: "n", default: "50")
    ] + ClientSettings.all
  ) { configuration in
    let limit = try configuration.integer("limit", in: 1...1000)
    let client = try GatewayClient(configuration: configuration)
    let data = try client.request(.get, "/v1/audit", query: [("limit", "\(limit)")])
    if try configuration.isOn("json") {
      Output.json(data)
      return 0
    }
    let page = try APIJSON.decoder.decode(Page<AuditEventShape>.self, from: data)
    Output.table(
      ["AT", "ACTOR", "ACTION", "TARGET", "SOURCE", "OUTCOME", "DETAIL"],
      page.items.map {
        [
          $0.at ?? "", $0.actor ?? "", $0.action ?? "", $0.target ?? "", $0.source ?? "",
          $0.outcome ?? "", $0.detail ?? "",
        ]
      }, maximum: 40)
    return 0
  }

  static let stats = Subcommand(
    words: ["stats"], summary: "Show the tenant's documents, chunks and bytes by source.",
    settings: ClientSettings.all
  ) { configuration in
    let client = try GatewayClient(configuration: configuration)
    let data = try client.request(.get, "/v1/stats")
    if try configuration.isOn("json") {
      Output.json(data)
      return 0
    }
    let stats = try APIJSON.decoder.decode(StatsShape.self, from: data)
    var rows = (stats.sources ?? []).map {
      [$0.source, "\($0.documents ?? 0)", "\($0.chunks ?? 0)", Output.bytes($0.bytes ?? 0)]
    }
    rows.append([
      "(all)", "\(stats.documents ?? 0)", "\(stats.chunks ?? 0)", Output.bytes(stats.bytes ?? 0),
    ])
    Output.table(["SOURCE", "DOCUMENTS", "CHUNKS", "BYTES"], rows)
    return 0
  }

  static let document = Subcommand(
    words: ["documents", "get"], summary: "Show one document with its text.",
    settings: ClientSettings.all, argumentsUsage: "<document-id>"
  ) { configuration in
    let id = try Subcommand.single(configuration, "a document id")
    let client = try GatewayClient(configuration: configuration)
    let data = try client.request(.get, "/v1/documents/\(GatewayClient.segment(id))")
    if try configuration.isOn("json") {
      Output.json(data)
    } else {
      printDocument(data)
    }
    return 0
  }

  /// A document as a person reads it: what it is, where it came from, who may see it, then
  /// its text.
  static func printDocument(_ data: Data) {
    guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
      Output.json(data)
      return
    }
    func text(_ key: String) -> String {
      Output.terminalSafe(object[key] as? String ?? "", keepingLineBreaks: key == "text")
    }
    let acl = object["acl"] as? [String: Any] ?? [:]
    var access: [String] = []
    if acl["tenant_wide"] as? Bool == true { access.append("the whole tenant") }
    if let groups = acl["groups"] as? [String], !groups.isEmpty {
      access.append("groups " + groups.joined(separator: ", "))
    }
    if let users = acl["users"] as? [String], !users.isEmpty {
      access.append("users " + users.joined(separator: ", "))
    }
    print(text("title"))
    print("  id:       \(text("document_id"))")
    print("  source:   \(text("source")) / \(text("external_id"))")
    if !text("url").isEmpty { print("  url:      \(text("url"))") }
    print("  type:     \(text("content_type")), version \(object["version"] as? Int ?? 0)")
    print("  modified: \(text("modified_at"))")
    print("  visible:  \(access.isEmpty ? "no one" : access.joined(separator: "; "))")
    print("")
    print(text("text").isEmpty ? "(no text)" : text("text"))
  }
}
