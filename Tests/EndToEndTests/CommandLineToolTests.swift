import Foundation
import KPTesting
import Testing

/// The `kp` subcommands against the real mesh, including the ways a person gets them wrong.
@Suite("End to end: the kp command-line tool")
struct CommandLineToolTests {
  @Test("every command answers --help with its usage, and a bad command line exits 2")
  func help() async throws {
    let commands = [
      "up", "down", "status", "tenants create", "tenants list", "tenants get", "tenants suspend",
      "tenants resume", "tenants change-plan", "tenants delete", "users create", "users list",
      "users get",
      "users update", "users delete", "keys create", "keys list", "keys revoke", "login",
      "logout", "ingest", "search", "jobs", "audit", "stats", "documents get",
    ]
    for command in commands {
      let words = command.split(separator: " ").map(String.init)
      let result = try await ChildProcess.run(
        [KPTool.executable] + words + ["--help"], withStandardError: true)
      let text = String(decoding: result.output, as: UTF8.self)
      #expect(result.status == 0, "kp \(command) --help")
      #expect(text.contains("Usage: kp \(command) [options]"), "kp \(command) --help")
    }
    for bad in [["tenants", "create"], ["frobnicate"], ["tenants", "rename"], ["search"]] {
      let result = try await ChildProcess.run([KPTool.executable] + bad, withStandardError: true)
      #expect(result.status == 2, "kp \(bad.joined(separator: " "))")
    }
  }

  @Test("an unreachable gateway and a missing file get messages a person can act on")
  func unreachableAndMissing() async throws {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("kp-cli-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let down = try await ChildProcess.run(
      [
        KPTool.executable, "search", "vacuum", "--gateway", "https://127.0.0.1:1", "--ca-file",
        "", "--token", "kpk_x",
      ], environment: ["HOME": directory], withStandardError: true)
    let text = String(decoding: down.output, as: UTF8.self)
    #expect(down.status == 1)
    #expect(text.contains("cannot reach the gateway at https://127.0.0.1:1"))
    #expect(text.contains("kp up"))

    let missing = try await ChildProcess.run(
      [
        KPTool.executable, "ingest", "\(directory)/no-such-dir", "--token", "kpk_x", "--ca-file",
        "",
      ],
      environment: ["HOME": directory], withStandardError: true)
    #expect(missing.status == 1)
    #expect(String(decoding: missing.output, as: UTF8.self).contains("does not exist"))

    let noLogin = try await ChildProcess.run(
      [KPTool.executable, "search", "vacuum", "--ca-file", ""],
      environment: ["HOME": directory], withStandardError: true)
    #expect(noLogin.status == 1)
    #expect(String(decoding: noLogin.output, as: UTF8.self).contains("run 'kp login"))
  }

  @Test("kp up stops with the failing service's own error instead of waiting")
  func upReportsAFailingService() async throws {
    let mesh = try TestMesh()
    let certificates = try mesh.certificatesDirectory(for: "tenants")
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("kp-up-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let started = ContinuousClock.now
    let result = try await ChildProcess.run(
      [
        KPTool.executable, "up", "--run-dir", "\(directory)/run", "--secrets-dir",
        "\(directory)/secrets", "--certs-dir", certificates, "--bin-dir",
        ServiceProcess.buildDirectory.path, "--start-timeout", "30",
      ], environment: ["KP_PG_PORT": "1", "KP_DATABASE_URL": ""], withStandardError: true)
    let text = String(decoding: result.output, as: UTF8.self)
    #expect(result.status == 1)
    #expect(text.contains("kp-tenants exited while starting"))
    #expect(text.contains("could not connect to PostgreSQL"))
    #expect(text.contains("port 1 failed"), "the default follows KP_PG_PORT")
    #expect(ContinuousClock.now - started < .seconds(20))
    #expect(!FileManager.default.fileExists(atPath: "\(directory)/run/tenants.pid"))

    // The documented default follows KP_PG_PORT the way scripts/postgres env does.
    let help = try await ChildProcess.run(
      [KPTool.executable, "up", "--help"], environment: ["KP_PG_PORT": "55999"])
    #expect(
      String(decoding: help.output, as: UTF8.self)
        .contains("Default: postgresql://postgres@127.0.0.1:55999/postgres."))
  }

  @Test("tenants, users, keys, login, ingest, search, jobs, audit and suspension")
  func operatorAndUserCommands() async throws {
    try await PlatformProcesses.with { platform in
      let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("kp-cli-\(UUID().uuidString)").path
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: directory) }
      let kp = KPTool(platform: platform, directory: directory)
      let admin = try kp.passwordFile("admin", PlatformProcesses.adminPassword)
      let userPassword = try kp.passwordFile("user", "correct horse battery staple")

      // The platform administrator makes a tenant and its users.
      try await kp.expectSuccess(
        ["login", "--email", PlatformProcesses.adminEmail, "--password-file", admin], as: "root")
      let created = try await kp.expectSuccess(
        ["tenants", "create", "initech", "--name", "Initech", "--plan", "team", "--json"],
        as: "root")
      #expect(created.json["slug"] as? String == "initech")
      let moved = try await kp.expectSuccess(
        ["tenants", "change-plan", "initech", "--plan", "enterprise", "--json"], as: "root")
      #expect(moved.json["plan"] as? String == "enterprise")
      let badPlan = try await kp.run(
        ["tenants", "change-plan", "initech", "--plan", "platinum"], as: "root")
      #expect(badPlan.status == 1)
      #expect(badPlan.output.contains("the plans are free, team, enterprise"))
      let listed = try await kp.expectSuccess(["tenants", "list"], as: "root")
      #expect(listed.output.contains("initech"))
      let duplicate = try await kp.run(["tenants", "create", "initech"], as: "root")
      #expect(duplicate.status == 1)
      #expect(duplicate.output.contains("ALREADY_EXISTS"))
      for (email, role, groups) in [
        ("lumbergh@initech.example", "admin", ""), ("milton@initech.example", "member", "eng"),
      ] {
        try await kp.expectSuccess(
          [
            "users", "create", email, "--tenant", "initech", "--role", role, "--groups", groups,
            "--password-file", userPassword,
          ], as: "root")
      }

      // Wrong credentials are refused without saying which part was wrong.
      let wrong = try await kp.run(
        [
          "login", "--tenant", "initech", "--email", "milton@initech.example", "--password-file",
          admin,
        ], as: "milton")
      #expect(wrong.status == 1)
      #expect(wrong.output.contains("UNAUTHENTICATED"))
      #expect(!wrong.output.contains("run 'kp login'"), "signing in again is what just failed")
      #expect(!FileManager.default.fileExists(atPath: "\(directory)/milton.credentials"))

      try await kp.expectSuccess(
        [
          "login", "--tenant", "initech", "--email", "lumbergh@initech.example",
          "--password-file", userPassword,
        ], as: "lumbergh")
      try await kp.expectSuccess(
        [
          "login", "--tenant", "initech", "--email", "milton@initech.example",
          "--password-file", userPassword,
        ], as: "milton")
      let users = try await kp.expectSuccess(["users", "list"], as: "lumbergh")
      #expect(users.output.contains("milton@initech.example"))

      // Ingest a directory of mixed files; the summary counts them and a re-run sends none.
      let corpus = "\(directory)/corpus"
      try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
      try "# Stapler policy\n\nEvery desk keeps its red stapler.\n".write(
        toFile: "\(corpus)/stapler.md", atomically: true, encoding: .utf8)
      try "<html><head><title>TPS reports</title></head><body><p>Cover sheets on every TPS "
        .appending("report.</p></body></html>").write(
          toFile: "\(corpus)/tps.html", atomically: true, encoding: .utf8)
      try "Basement relocation plan for storage room B.\n".write(
        toFile: "\(corpus)/basement.txt", atomically: true, encoding: .utf8)
      try Data([0x89, 0x50, 0x4E, 0x47]).write(to: URL(fileURLWithPath: "\(corpus)/logo.png"))
      let ingested = try await kp.expectSuccess(
        ["ingest", corpus, "--source", "handbook"], as: "lumbergh")
      #expect(ingested.output.contains("found 3 document file(s)"))
      #expect(ingested.output.contains(".png ×1"))
      #expect(ingested.output.contains("3 new or changed"))
      let jobsLine = ingested.output.split(separator: "\n").first { $0.contains("jobs:") }
      #expect(jobsLine?.split(separator: " ").last?.hasPrefix("j") == true, "the job id is shown")
      let again = try await kp.expectSuccess(
        ["ingest", corpus, "--source", "handbook"], as: "lumbergh")
      #expect(again.output.contains("3 unchanged since the last run are skipped"))

      // --no-wait returns with the job's id; kp jobs follows it to its end.
      try "Memo: the printer on floor two is fixed.\n".write(
        toFile: "\(corpus)/memo.txt", atomically: true, encoding: .utf8)
      let queued = try await kp.expectSuccess(
        ["ingest", corpus, "--source", "handbook", "--no-wait"], as: "lumbergh")
      let jobLine = try #require(
        queued.output.split(separator: "\n").first { $0.hasPrefix("accepted 1 documents") })
      let jobID = try #require(jobLine.split(separator: " ").last.map(String.init))
      let job = try await kp.expectSuccess(["jobs", jobID, "--wait"], as: "lumbergh")
      #expect(job.output.contains("succeeded"))
      #expect(job.output.contains("1 of 1 processed"))

      // Search: a readable table by default, JSON on request.
      let table = try await kp.expectSuccess(["search", "red", "stapler"], as: "milton")
      #expect(table.output.contains("Stapler policy"))
      #expect(table.output.contains("[handbook]"))
      let json = try await kp.expectSuccess(["search", "TPS", "--json"], as: "milton").json
      let titles = (json["results"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String }
      #expect(titles == ["TPS reports"])
      let stats = try await kp.expectSuccess(["stats", "--json"], as: "milton").json
      #expect(stats["documents"] as? Int == 4)

      // API keys: the secret works once created and stops working once revoked.
      let key = try await kp.expectSuccess(
        ["keys", "create", "ci", "--scopes", "search", "--json"], as: "lumbergh"
      ).json
      let secret = try #require(key["secret"] as? String)
      let keyID = try #require(key["id"] as? String)
      let withKey = try await kp.expectSuccess(
        ["search", "basement", "--json", "--token", secret], as: "nobody"
      ).json
      #expect(withKey["total"] as? Int == 1)
      try await kp.expectSuccess(["keys", "revoke", keyID], as: "lumbergh")
      try await Task.sleep(for: .seconds(2))
      let revoked = try await kp.run(["search", "basement", "--token", secret], as: "nobody")
      #expect(revoked.status == 1)
      #expect(revoked.output.contains("UNAUTHENTICATED"))

      // The audit log shows what the administrator did.
      let audit = try await kp.expectSuccess(["audit", "--json"], as: "lumbergh").json
      let events = try #require(audit["items"] as? [[String: Any]])
      #expect(!events.isEmpty)
      let actions = Set(events.compactMap { $0["action"] as? String })
      let auditTable = try await kp.expectSuccess(["audit"], as: "lumbergh")
      let header = try #require(auditTable.output.split(separator: "\n").first)
      #expect(header.hasPrefix("AT"))
      #expect(header.contains("ACTOR"))
      #expect(header.contains("ACTION"))
      for action in actions {
        #expect(auditTable.output.contains(action), "kp audit lists \(action)")
      }
      #expect(actions.isSuperset(of: ["api_key.create", "api_key.revoke"]))
      #expect(auditTable.output.contains("api_key.revoke"))

      // A suspended tenant's users are refused; resuming lets them back.
      try await kp.expectSuccess(
        ["tenants", "suspend", "initech", "--reason", "unpaid"], as: "root")
      try await Task.sleep(for: .seconds(2))
      let suspended = try await kp.run(["search", "stapler"], as: "milton")
      #expect(suspended.status == 1)
      #expect(suspended.output.contains("suspended"))
      #expect(!suspended.output.contains("run 'kp login'"), "signing in again cannot help")
      try await kp.expectSuccess(["tenants", "resume", "initech"], as: "root")
      try await Task.sleep(for: .seconds(2))
      try await kp.expectSuccess(["search", "stapler"], as: "milton")

      // Deleting asks for confirmation.
      let unconfirmed = try await kp.run(["tenants", "delete", "initech"], as: "root")
      #expect(unconfirmed.status == 2)
      try await kp.expectSuccess(["logout"], as: "milton")
      #expect(!FileManager.default.fileExists(atPath: "\(directory)/milton.credentials"))
    }
  }

  /// Starts a platform with the tenant `initrode`: an administrator logged in as `boss`, and
  /// members in the groups `hr` (logged in as `hr`) and `eng` (logged in as `eng`).
  private func withTenant(_ body: (KPTool, String) async throws -> Void) async throws {
    try await PlatformProcesses.with { platform in
      let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("kp-cli-\(UUID().uuidString)").path
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: directory) }
      let kp = KPTool(platform: platform, directory: directory)
      let admin = try kp.passwordFile("admin", PlatformProcesses.adminPassword)
      let password = try kp.passwordFile("user", "correct horse battery staple")
      try await kp.expectSuccess(
        ["login", "--email", PlatformProcesses.adminEmail, "--password-file", admin], as: "root")
      try await kp.expectSuccess(["tenants", "create", "initrode"], as: "root")
      for (name, role, groups) in [
        ("boss", "admin", ""), ("hr", "member", "hr"), ("eng", "member", "eng"),
      ] {
        try await kp.expectSuccess(
          [
            "users", "create", "\(name)@initrode.example", "--tenant", "initrode", "--role", role,
            "--groups", groups, "--password-file", password,
          ], as: "root")
        try await kp.expectSuccess(
          [
            "login", "--tenant", "initrode", "--email", "\(name)@initrode.example",
            "--password-file", password,
          ], as: name)
      }
      try await body(kp, directory)
    }
  }

  @Test("re-ingesting with another access list applies it: the document is hidden from others")
  func reingestWithNewAccessList() async throws {
    try await withTenant { kp, directory in
      let corpus = "\(directory)/policies"
      try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
      try "# Salary bands\n\nThe quarterly salary bands for every grade.\n".write(
        toFile: "\(corpus)/bands.md", atomically: true, encoding: .utf8)

      // Tenant-wide first: everyone finds it.
      let first = try await kp.expectSuccess(["ingest", corpus, "--source", "hr"], as: "boss")
      #expect(first.output.contains("1 new or changed"))
      let open = try await kp.expectSuccess(["search", "salary", "bands", "--json"], as: "eng")
      #expect(open.json["total"] as? Int == 1)
      let hit = try #require((open.json["results"] as? [[String: Any]])?.first)
      let id = try #require(hit["document_id"] as? String)

      // The same unchanged file with --groups hr is sent again and its access list replaced.
      let narrowed = try await kp.expectSuccess(
        ["ingest", corpus, "--source", "hr", "--groups", "hr"], as: "boss")
      #expect(!narrowed.output.contains("unchanged since the last run"))
      #expect(narrowed.output.contains("sent:      1 documents"))
      #expect(narrowed.output.contains("1 new or changed"))
      let hidden = try await kp.expectSuccess(["search", "salary", "bands", "--json"], as: "eng")
      #expect(hidden.json["total"] as? Int == 0)
      let allowed = try await kp.expectSuccess(["search", "salary", "bands", "--json"], as: "hr")
      #expect(allowed.json["total"] as? Int == 1)
      let document = try await kp.expectSuccess(["documents", "get", id, "--json"], as: "hr")
      let acl = try #require(document.json["acl"] as? [String: Any])
      #expect(acl["tenant_wide"] as? Bool == false)
      #expect(acl["groups"] as? [String] == ["hr"])

      // The same options again are skipped locally; --restart sends it under the same key.
      let again = try await kp.expectSuccess(
        ["ingest", corpus, "--source", "hr", "--groups", "hr"], as: "boss")
      #expect(again.output.contains("1 unchanged since the last run are skipped"))
      let restarted = try await kp.expectSuccess(
        ["ingest", corpus, "--source", "hr", "--groups", "hr", "--restart"], as: "boss")
      #expect(restarted.output.contains("sent:      1 documents"))

      // Back to tenant-wide with --restart: a new key, and everyone finds it again.
      try await kp.expectSuccess(["ingest", corpus, "--source", "hr", "--restart"], as: "boss")
      let reopened = try await kp.expectSuccess(
        ["search", "salary", "bands", "--json"], as: "eng")
      #expect(reopened.json["total"] as? Int == 1)
    }
  }

  @Test("a file over the largest document is refused on its own, the rest stored, exit 1")
  func oversizeFile() async throws {
    try await withTenant { kp, directory in
      let corpus = "\(directory)/dump"
      try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
      try "# Parking\n\nVisitors park on level two.\n".write(
        toFile: "\(corpus)/parking.md", atomically: true, encoding: .utf8)
      let line = "The minutes of every meeting since the company began, kept for posterity.\n"
      let big = String(repeating: line, count: 2_500_000 / line.utf8.count + 1)
      try big.write(toFile: "\(corpus)/minutes.txt", atomically: true, encoding: .utf8)
      let size = big.utf8.count

      // Refused by kp itself: never sent, listed with its full reason.
      let outcome = try await kp.run(["ingest", corpus, "--source", "dump"], as: "boss")
      #expect(outcome.status == 1, "\(outcome.output)")
      #expect(outcome.output.contains("sent:      1 documents"))
      #expect(outcome.output.contains("1 new or changed"))
      #expect(outcome.output.contains("refused:   1"))
      #expect(
        outcome.output.contains(
          "minutes.txt  too_large  the file has \(size) bytes, over the largest document "
            + "accepted (2097152 bytes, --max-document-bytes); it was not sent"))
      let stats = try await kp.expectSuccess(["stats", "--json"], as: "boss").json
      #expect(stats["documents"] as? Int == 1)

      // Run again: the stored file is skipped, the big one refused again.
      let again = try await kp.run(["ingest", corpus, "--source", "dump"], as: "boss")
      #expect(again.status == 1)
      #expect(again.output.contains("1 unchanged since the last run are skipped"))
      #expect(again.output.contains("minutes.txt  too_large"))

      // Sent with a higher local limit, kp-ingest refuses it with its own reason: still exit 1.
      let raised = try await kp.run(
        ["ingest", corpus, "--source", "dump", "--max-document-bytes", "3000000"], as: "boss")
      #expect(raised.status == 1, "\(raised.output)")
      #expect(raised.output.contains("sent:      1 documents"))
      #expect(raised.output.contains("refused:   1"))
      #expect(raised.output.contains("minutes.txt"))

      // 14 MB, as a user first tried: refused at once, not killed by SIGPIPE.
      let larger = String(repeating: line, count: 14_000_000 / line.utf8.count + 1)
      try larger.write(toFile: "\(corpus)/minutes.txt", atomically: true, encoding: .utf8)
      let refused = try await kp.run(["ingest", corpus, "--source", "dump"], as: "boss")
      #expect(refused.status == 1)
      #expect(refused.output.contains("the file has \(larger.utf8.count) bytes"))
      let unusable = try await kp.run(
        ["ingest", corpus, "--source", "dump", "--max-document-bytes", "20000000"], as: "boss")
      #expect(unusable.status == 2)
      #expect(unusable.output.contains("a whole number from 1 to 3000000"))

      // A batch size the platform's call frame cannot carry is a usage error.
      let huge = try await kp.run(
        ["ingest", corpus, "--source", "dump", "--batch-bytes", "5000000"], as: "boss")
      #expect(huge.status == 2)
      #expect(huge.output.contains("batch-bytes"))
      #expect(huge.output.contains("3000000"))

      let help = try await kp.expectSuccess(["ingest", "--help"])
      #expect(help.output.contains("--max-document-bytes <n>"))
      #expect(help.output.contains("Default: 2097152."))
      let words = help.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
      #expect(
        words.contains(
          "Exit status: 0 when every document was stored or found unchanged, 1 when any was refused"
        ))
    }
  }

  @Test("parallel commands sharing an expired login refresh it once and all succeed")
  func parallelRefresh() async throws {
    try await withTenant { kp, directory in
      let path = "\(directory)/eng.credentials"
      func saved() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
      }
      // Several rounds, so that the four processes overlap in at least one of them.
      var refreshToken = ""
      for _ in 0..<5 {
        var login = try saved()
        refreshToken = try #require(login["refresh_token"] as? String)
        login["expires_at"] = Date().timeIntervalSince1970 - 3600
        try JSONSerialization.data(withJSONObject: login).write(to: URL(fileURLWithPath: path))
        let outcomes = try await withThrowingTaskGroup(of: KPTool.Outcome.self) { group in
          for _ in 0..<4 {
            group.addTask { try await kp.run(["search", "anything", "--json"], as: "eng") }
          }
          return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count == 4)
        for outcome in outcomes {
          #expect(outcome.status == 0, "\(outcome.output)")
          #expect(outcome.json["total"] as? Int == 0)
        }
      }
      let renewed = try saved()
      #expect(renewed["refresh_token"] as? String != refreshToken)
      #expect((renewed["expires_at"] as? Double ?? 0) > Date().timeIntervalSince1970 + 60)

      // The session survives: the next command works, and so does another refresh.
      try await kp.expectSuccess(["search", "anything"], as: "eng")
      var again = renewed
      again["expires_at"] = 0
      try JSONSerialization.data(withJSONObject: again).write(to: URL(fileURLWithPath: path))
      try await kp.expectSuccess(["stats"], as: "eng")
    }
  }

  @Test(
    "out-of-range paging options exit 2 naming the option and its range",
    arguments: [
      (["search", "foo", "--limit", "abc"], "'limit' is 'abc'", "from 1 to 100"),
      (["search", "foo", "--limit", "0"], "'limit' is '0'", "from 1 to 100"),
      (["search", "foo", "--limit", "101"], "'limit' is '101'", "from 1 to 100"),
      (["search", "foo", "--offset", "-1"], "'offset' is '-1'", "from 0 to 10000"),
      (["search", "foo", "--offset", "10001"], "'offset' is '10001'", "from 0 to 10000"),
      (["audit", "--limit", "0"], "'limit' is '0'", "from 1 to 1000"),
      (["tenants", "list", "--limit", "5000"], "'limit' is '5000'", "from 1 to 1000"),
    ])
  func pagingRanges(arguments: [String], named: String, range: String) async throws {
    // No gateway is needed: the command line is refused before anything is sent.
    let result = try await ChildProcess.run(
      [KPTool.executable] + arguments + ["--gateway", "https://127.0.0.1:1", "--token", "kpk_x"],
      withStandardError: true)
    let text = String(decoding: result.output, as: UTF8.self)
    #expect(result.status == 2, "\(text)")
    #expect(text.contains(named), "\(text)")
    #expect(text.contains(range), "\(text)")
    #expect(!text.contains("cannot reach the gateway"))
  }

  @Test("kp.conf takes any command's options; each command ignores those it does not take")
  func sharedConfigurationFile() async throws {
    try await withTenant { kp, directory in
      let corpus = "\(directory)/memos"
      try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
      for name in ["first", "second", "third"] {
        try "# Memo \(name)\n\nThe \(name) memo about the parking garage.\n".write(
          toFile: "\(corpus)/\(name).md", atomically: true, encoding: .utf8)
      }
      try await kp.expectSuccess(["ingest", corpus, "--source", "memos"], as: "boss")

      let config = "\(directory)/xdg/knowledgeplane"
      try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
      try "# shared by every kp command\ntenant = initrode\nlimit = 2\njson = true\n".write(
        toFile: "\(config)/kp.conf", atomically: true, encoding: .utf8)
      let environment = ["XDG_CONFIG_HOME": "\(directory)/xdg"]

      // login takes tenant (and ignores limit); search takes limit and json; stats only json.
      let password = "\(directory)/user.password"
      let login = try await kp.run(
        ["login", "--email", "eng@initrode.example", "--password-file", password],
        as: "configured", environment: environment)
      #expect(login.status == 0, "\(login.output)")
      #expect(login.output.contains("of initrode"))
      let search = try await kp.run(
        ["search", "parking", "garage"], as: "configured", environment: environment)
      #expect(search.status == 0, "\(search.output)")
      #expect(search.json["total"] as? Int == 3)
      #expect((search.json["results"] as? [Any])?.count == 2)
      let flag = try await kp.run(
        ["search", "parking", "--limit", "3"], as: "configured", environment: environment)
      #expect((flag.json["results"] as? [Any])?.count == 3)
      let stats = try await kp.run(["stats"], as: "configured", environment: environment)
      #expect(stats.status == 0, "\(stats.output)")
      #expect(stats.json["documents"] as? Int == 3)

      // A name no command takes is still an error naming the file and line.
      try "tenant = initrode\ncolour = blue\n".write(
        toFile: "\(config)/kp.conf", atomically: true, encoding: .utf8)
      let wrong = try await kp.run(["stats"], as: "configured", environment: environment)
      #expect(wrong.status == 2)
      #expect(wrong.output.contains("kp.conf:2: unknown setting 'colour'"))
    }
  }

  @Test("a saved login fits every spelling of its gateway; an unreachable one is named as such")
  func gatewaySpellings() async throws {
    try await withTenant { kp, directory in
      let path = "\(directory)/eng.credentials"
      let port = kp.platform.httpsPort
      func search(_ gateway: String) async throws -> KPTool.Outcome {
        let result = try await ChildProcess.run(
          [
            KPTool.executable, "search", "anything", "--json", "--gateway", gateway, "--ca-file",
            kp.platform.caPath, "--credentials-file", path,
          ], environment: ["HOME": directory], withStandardError: true)
        return KPTool.Outcome(
          status: result.status, output: String(decoding: result.output, as: UTF8.self))
      }

      // Saved for https://127.0.0.1:<port>: a trailing slash is the same gateway.
      let slash = try await search("https://127.0.0.1:\(port)/")
      #expect(slash.status == 0, "\(slash.output)")
      #expect(slash.json["total"] as? Int == 0)

      // Saved for https://LocalHost:<port>: letter case of scheme and host does not matter.
      let data = try Data(contentsOf: URL(fileURLWithPath: path))
      var login = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
      login["gateway"] = "https://LocalHost:\(port)"
      try JSONSerialization.data(withJSONObject: login).write(to: URL(fileURLWithPath: path))
      for gateway in ["https://localhost:\(port)", "HTTPS://LOCALHOST:\(port)/"] {
        let outcome = try await search(gateway)
        #expect(outcome.status == 0, "\(gateway): \(outcome.output)")
      }

      // Another gateway that answers: the login does not fit.
      let other = try await search("https://127.0.0.1:\(port)")
      #expect(other.status == 1)
      #expect(
        other.output.contains(
          "the saved login is for https://LocalHost:\(port), not https://127.0.0.1:\(port)"))

      // A gateway that does not answer is reported as unreachable first.
      let down = try await search("https://127.0.0.1:1")
      #expect(down.status == 1)
      #expect(down.output.contains("cannot reach the gateway at https://127.0.0.1:1"))
      #expect(down.output.contains("The saved login is for https://LocalHost:\(port)."))
    }
  }
}
