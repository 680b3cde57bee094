import Foundation
import KPTesting
import Testing

/// The README's main job on a slice of the real corpora: `scripts/demo` against a real mesh,
/// then checks of what each user can find.
@Suite("End to end: the demonstration on real documents")
struct DemonstrationTests {
  static let postgresDocs = "/usr/share/doc/postgresql-doc-15/html"
  static let gitDocs = "/usr/share/doc/git-doc"

  /// The repository's root, for scripts/demo.
  static var root: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
  }

  @Test("two tenants, their users and groups: results, group rules, isolation and counts")
  func demonstration() async throws {
    try await PlatformProcesses.with { platform in
      let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("kp-demo-\(UUID().uuidString)").path
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: directory) }
      let kp = KPTool(platform: platform, directory: directory)
      let adminPassword = try kp.passwordFile("admin", PlatformProcesses.adminPassword)

      // The demonstration itself, as scripts/run runs it.
      let demo = try await runDemo(platform, directory: directory, adminPassword: adminPassword)
      let printed = String(decoding: demo.output, as: UTF8.self)
      try #require(demo.status == 0, "scripts/demo failed:\n\(printed)")
      #expect(printed.contains("==> summary"))
      #expect(printed.contains("search latency through the gateway (kp-load, 600 searches"))
      #expect(printed.contains(", 0 errors"))

      // Every file sent is stored once: the counts add up.
      let acmeFiles = try Self.files(in: "\(directory)/slice-html")
      let globexFiles = try Self.files(in: "\(directory)/slice-git-doc")
      #expect(acmeFiles.count >= 30)
      #expect(globexFiles.count >= 30)
      let acmeStats = try await kp.expectSuccess(["stats", "--json"], as: "acme-admin").json
      let globexStats = try await kp.expectSuccess(["stats", "--json"], as: "globex-admin").json
      #expect(acmeStats["documents"] as? Int == acmeFiles.count)
      #expect(globexStats["documents"] as? Int == globexFiles.count)
      #expect((acmeStats["chunks"] as? Int ?? 0) >= acmeFiles.count)

      // Group rules: a restricted page is found by eng (alice), never by support (bob).
      for (tenant, files, restricted) in [
        ("acme", acmeFiles, "catalog-"), ("globex", globexFiles, "technical/"),
      ] {
        let titled = files.filter { !$0.title.isEmpty }
        let secret = try #require(titled.first { $0.relative.hasPrefix(restricted) })
        let open = try #require(titled.first { !$0.relative.hasPrefix(restricted) })
        let alice = try await titles(kp, secret.title, as: "\(tenant)-alice")
        let bob = try await titles(kp, secret.title, as: "\(tenant)-bob")
        #expect(alice.contains(secret.title), "alice should see \(secret.relative)")
        #expect(!bob.contains(secret.title), "bob must not see \(secret.relative)")
        let openForBob = try await titles(kp, open.title, as: "\(tenant)-bob")
        #expect(openForBob.contains(open.title), "bob should see \(open.relative)")
      }

      // Isolation: globex never finds acme's pages, nor reads one by id.
      let acmePage = try #require(
        acmeFiles.first { !$0.title.isEmpty && !$0.relative.hasPrefix("catalog-") })
      #expect(
        try await titles(kp, acmePage.title, as: "globex-alice").contains(acmePage.title)
          == false)
      let found = try await kp.expectSuccess(
        ["search", "--limit", "5", "--json", "--", acmePage.title], as: "acme-alice"
      ).json
      let hit = try #require((found["results"] as? [[String: Any]])?.first)
      let id = try #require(hit["document_id"] as? String)
      let stolen = try await kp.run(["documents", "get", id], as: "globex-alice")
      #expect(stolen.status == 1)
      #expect(stolen.output.contains("NOT_FOUND"))
      let own = try await kp.expectSuccess(["documents", "get", id, "--json"], as: "acme-alice")
      #expect(own.json["document_id"] as? String == id)
      let readable = try await kp.expectSuccess(["documents", "get", id], as: "acme-alice")
      #expect(readable.output.hasPrefix(acmePage.title + "\n"))
      #expect(readable.output.contains("  id:       \(id)\n"))
      #expect(readable.output.contains("  visible:  "))

      // Running it again reuses everything and sends nothing new.
      let again = try await runDemo(platform, directory: directory, adminPassword: adminPassword)
      let second = String(decoding: again.output, as: UTF8.self)
      try #require(again.status == 0, "scripts/demo failed the second time:\n\(second)")
      #expect(second.contains("tenant acme: exists"))
      #expect(second.contains("\(acmeFiles.count) unchanged since the last run are skipped"))
      let statsAfter = try await kp.expectSuccess(["stats", "--json"], as: "acme-admin").json
      #expect(statsAfter["documents"] as? Int == acmeFiles.count)
    }
  }

  /// Runs scripts/demo against the platform on about 40 files of each corpus.
  private func runDemo(
    _ platform: PlatformProcesses, directory: String, adminPassword: String
  ) async throws -> (status: Int32, output: [UInt8]) {
    try await ChildProcess.run(
      [
        "/bin/bash", Self.root.appendingPathComponent("scripts/demo").path, "--bin-dir",
        ServiceProcess.buildDirectory.path,
      ],
      environment: [
        "KP_GATEWAY": platform.gatewayURL, "KP_CA_FILE": platform.caPath,
        "KP_DEMO_RPC_TARGET": "127.0.0.1:\(platform.rpcPort)", "KP_DEMO_DIR": directory,
        "KP_DEMO_LIMIT": "40", "KP_DEMO_ADMIN_EMAIL": PlatformProcesses.adminEmail,
        "KP_DEMO_ADMIN_PASSWORD_FILE": adminPassword, "HOME": directory,
      ], withStandardError: true)
  }

  /// The titles of up to 100 hits for `query` as a quoted phrase.
  private func titles(_ kp: KPTool, _ query: String, as principal: String) async throws
    -> [String]
  {
    let phrase = "\"" + query.replacingOccurrences(of: "\"", with: " ") + "\""
    let outcome = try await kp.expectSuccess(
      ["search", "--limit", "100", "--json", "--", phrase], as: principal)
    let results = outcome.json["results"] as? [[String: Any]] ?? []
    return results.compactMap { $0["title"] as? String }
  }

  /// An HTML file of a slice: its path under the slice and its `<title>`.
  struct SliceFile {
    var relative: String
    var title: String
  }

  /// The HTML files of a slice directory with their titles (empty when there is none), sorted
  /// by path.
  static func files(in directory: String) throws -> [SliceFile] {
    guard let walker = FileManager.default.enumerator(atPath: directory) else {
      throw ChildProcess.Failure(description: "no slice at \(directory)")
    }
    var files: [SliceFile] = []
    for case let relative as String in walker where relative.hasSuffix(".html") {
      let html = try String(contentsOfFile: "\(directory)/\(relative)", encoding: .utf8)
      files.append(SliceFile(relative: relative, title: title(of: html) ?? ""))
    }
    return files.sorted { $0.relative < $1.relative }
  }

  /// The text of the `<title>` element, entities for quotes and ampersands decoded and
  /// white space collapsed, as the HTML normaliser keeps it.
  static func title(of html: String) -> String? {
    guard let start = html.range(of: "<title>", options: .caseInsensitive),
      let end = html.range(
        of: "</title>", options: .caseInsensitive, range: start.upperBound..<html.endIndex)
    else { return nil }
    let raw = html[start.upperBound..<end.lowerBound]
      .replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&quot;", with: "\"")
      .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
      .replacingOccurrences(of: "&#39;", with: "'")
    return raw.split(whereSeparator: \.isWhitespace).joined(separator: " ")
  }
}
