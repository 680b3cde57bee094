import Foundation
import KPServiceKit
import Testing

@testable import Load

/// The mix, durations, credentials and bounds, as the command line gives them.
@Suite("Load settings")
struct LoadSettingsTests {
  private let command = ServiceCommand(
    name: "kp-load", summary: "test", settings: LoadOptions.settings)

  private func options(_ arguments: [String]) throws -> LoadOptions {
    guard case .run(let configuration) = try command.parse(arguments, environment: [:]) else {
      throw LoadError(.invalidSetting, "not a run")
    }
    return try LoadOptions(configuration)
  }

  private func expectInvalid(
    _ arguments: [String], mentioning text: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    do {
      _ = try options(arguments)
      Issue.record("\(arguments) was accepted", sourceLocation: sourceLocation)
    } catch let error as LoadError {
      #expect(error.message.contains(text), "\(error.message)", sourceLocation: sourceLocation)
    } catch let error as ConfigurationError {
      #expect(error.message.contains(text), "\(error.message)", sourceLocation: sourceLocation)
    } catch {
      Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
    }
  }

  @Test("a mix parses to weights and picks in proportion")
  func mixParsing() throws {
    let mix = try RequestMix(parsing: "search=80, get=15,ingest=5")
    #expect(mix.weight(of: .search) == 80 && mix.weight(of: .get) == 15)
    #expect(mix.total == 100 && mix.description == "search=80,get=15,ingest=5")
    #expect(mix.operation(for: 0) == .search && mix.operation(for: 79) == .search)
    #expect(mix.operation(for: 80) == .get && mix.operation(for: 94) == .get)
    #expect(mix.operation(for: 95) == .ingest && mix.operation(for: 99) == .ingest)
    #expect(try RequestMix(parsing: "get=1,search=0").description == "get=1")

    var generator = SeededGenerator(seed: 42)
    var picked: [LoadOperation: Int] = [:]
    for _ in 0..<10_000 { picked[mix.pick(using: &generator), default: 0] += 1 }
    #expect((7_700...8_300).contains(picked[.search] ?? 0))
    #expect((1_300...1_700).contains(picked[.get] ?? 0))
    #expect((350...650).contains(picked[.ingest] ?? 0))
  }

  @Test(
    "a malformed mix is refused with the entry named",
    arguments: [
      ("search", "not name=weight"), ("lookup=5", "not name=weight"),
      ("search=-1", "not a whole number"), ("search=x", "not a whole number"),
      ("search=0,get=0", "at least one weight"), ("search=1,search=2", "twice"),
      ("", "not name=weight"),
    ])
  func mixErrors(text: String, message: String) {
    do {
      _ = try RequestMix(parsing: text)
      Issue.record("'\(text)' was accepted")
    } catch {
      #expect(error.message.contains(message), "\(error.message)")
    }
  }

  @Test("durations take ms, s, m and h; a bare number is seconds")
  func durations() throws {
    #expect(try DurationText.parse("500ms", setting: "x") == .milliseconds(500))
    #expect(try DurationText.parse("2s", setting: "x") == .seconds(2))
    #expect(try DurationText.parse("1.5s", setting: "x") == .milliseconds(1500))
    #expect(try DurationText.parse("3", setting: "x") == .seconds(3))
    #expect(try DurationText.parse("2m", setting: "x") == .seconds(120))
    #expect(try DurationText.parse("0s", setting: "x") == .zero)
    for bad in ["", "fast", "-1s", "2d", "25h"] {
      #expect(throws: LoadError(.invalidSetting, "")) {
        try DurationText.parse(bad, setting: "warmup")
      }
    }
  }

  @Test("the defaults, and both bounds from flags")
  func defaultsAndBounds() throws {
    let defaults = try options(["--token", "secret", "--ca-file", ""])
    #expect(defaults.requests == 100_000 && defaults.duration == .seconds(30))
    #expect(defaults.warmup == .seconds(2) && defaults.concurrency == 8)
    #expect(defaults.mix.description == "search=80,get=15,ingest=5")
    #expect(defaults.credentials == [TenantCredential(tenant: "default", token: "secret")])
    #expect(defaults.serverName == "127.0.0.1" && defaults.caFile == nil && !defaults.json)

    let bounded = try options([
      "--token", "t", "--ca-file", "", "--requests", "250", "--duration", "5s", "--warmup",
      "0", "--seed", "9", "--json", "--target", "localhost:7200",
    ])
    #expect(bounded.requests == 250 && bounded.duration == .seconds(5))
    #expect(bounded.warmup == .zero && bounded.seed == 9 && bounded.json)
    #expect(bounded.target.port == 7200 && bounded.serverName == "localhost")
  }

  @Test("bad settings are refused with what to change")
  func badSettings() {
    expectInvalid(["--ca-file", ""], mentioning: "no credential")
    expectInvalid(["--token", "t", "--ca-file", "", "--requests", "0"], mentioning: "requests")
    expectInvalid(["--token", "t", "--ca-file", "", "--duration", "0s"], mentioning: "above 0")
    expectInvalid(
      ["--token", "t", "--ca-file", "", "--target", "nowhere"], mentioning: "host:port")
    expectInvalid(["--token", "t", "--ca-file", "/no/such/ca.pem"], mentioning: "cannot be read")
    expectInvalid(["--token", "t", "--ca-file", "", "--seed", "-3"], mentioning: "seed")
    expectInvalid(["--token", "t", "--ca-file", "", "--mix", "read=1"], mentioning: "read=1")
    expectInvalid(
      ["--token", "t", "--ca-file", "", "--concurrency", "0"], mentioning: "concurrency")
  }

  @Test("a credentials file gives one tenant a line; --tenants takes the first ones")
  func credentialsFile() throws {
    let path = FileManager.default.temporaryDirectory
      .appendingPathComponent("kp-load-credentials-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try "# tenants\nacme kpk_a_1\n\nglobex\tkpk_b_2\ninitech eyJ.x.y\n".write(
      toFile: path, atomically: true, encoding: .utf8)

    let all = try options(["--credentials", path, "--ca-file", ""])
    #expect(all.credentials.map(\.tenant) == ["acme", "globex", "initech"])
    #expect(all.credentials[1].token == "kpk_b_2")
    let two = try options(["--credentials", path, "--ca-file", "", "--tenants", "2"])
    #expect(two.credentials.map(\.tenant) == ["acme", "globex"])
    expectInvalid(["--credentials", path, "--ca-file", "", "--tenants", "4"], mentioning: "only 3")
    expectInvalid(
      ["--credentials", path, "--ca-file", "", "--concurrency", "2"], mentioning: "a worker each")
    expectInvalid(
      ["--credentials", path, "--token", "t", "--ca-file", ""], mentioning: "not both")

    #expect(throws: LoadError(.invalidCredentials, "")) {
      try TenantCredential.parse("acme\n", path: "f")
    }
    #expect(throws: LoadError(.invalidCredentials, "")) {
      try TenantCredential.parse("acme a\nacme b\n", path: "f")
    }
  }

  @Test("query terms are the documents' words, without stop words, sorted")
  func terms() {
    let terms = TermExtractor.terms(of: [
      SampledDocument(id: "1", text: "Release notes\nThe gateway's latency, which improved."),
      SampledDocument(id: "2", text: "Latency budget: 40 ms; onboarding (draft)"),
    ])
    #expect(
      terms == [
        "budget", "draft", "gateway", "improved", "latency", "notes", "onboarding", "release",
      ])
  }
}
