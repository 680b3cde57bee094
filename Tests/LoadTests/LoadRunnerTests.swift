import KPServiceKit
import Synchronization
import Testing

@testable import Load

/// The runner's bounds, warm-up and seeding, with an in-process gateway stand-in that answers
/// at once (or after a pause) and writes down what it was asked.
@Suite("Load runner")
struct LoadRunnerTests {
  /// Answers every call with success and remembers each request as `tenant operation argument`.
  final class RecordingClient: GatewayClient {
    let pause: Duration
    let requests = Mutex<[String]>([])

    init(pause: Duration = .zero) {
      self.pause = pause
    }

    var transport: String { "memory" }

    func sample(
      count: Int, as tenant: TenantCredential
    ) async -> (calls: [CallOutcome], documents: [SampledDocument]) {
      ([CallOutcome(call: "list", code: "OK")], [])
    }

    func search(_ query: String, as tenant: TenantCredential) async -> CallOutcome {
      await answer("\(tenant.tenant) search \(query)", call: "search", hits: ["d9"])
    }

    func get(_ id: String, as tenant: TenantCredential) async -> CallOutcome {
      await answer("\(tenant.tenant) get \(id)", call: "get")
    }

    func ingest(
      _ document: GeneratedDocument, idempotencyKey: String, as tenant: TenantCredential
    ) async -> CallOutcome {
      await answer("\(tenant.tenant) ingest \(document.title)", call: "ingest")
    }

    func close() {}

    private func answer(_ request: String, call: String, hits: [String] = []) async -> CallOutcome {
      requests.withLock { $0.append(request) }
      if pause > .zero { try? await Task.sleep(for: pause) }
      return CallOutcome(call: call, code: "OK", documentIDs: hits)
    }
  }

  private func options(_ arguments: [String]) throws -> LoadOptions {
    let command = ServiceCommand(name: "kp-load", summary: "test", settings: LoadOptions.settings)
    guard
      case .run(let configuration) = try command.parse(
        ["--token", "t", "--ca-file", ""] + arguments, environment: [:])
    else { throw LoadError(.invalidSetting, "not a run") }
    return try LoadOptions(configuration)
  }

  private func run(
    _ options: LoadOptions, client: RecordingClient, tenants: [String] = ["acme"]
  ) async -> LoadResult {
    let corpora = tenants.map {
      TenantCorpus(
        tenant: TenantCredential(tenant: $0, token: "t"), documentIDs: ["d1", "d2"],
        terms: ["alpha", "beta", "gamma"])
    }
    return await LoadRunner(
      options: options, client: client, corpora: corpora, runID: "r",
      budget: RequestBudget(limit: options.requests)
    ).run()
  }

  @Test("the request bound ends the run at exactly that many measured requests")
  func requestBound() async throws {
    let client = RecordingClient(pause: .milliseconds(1))
    let result = await run(
      try options(["--requests", "50", "--warmup", "0", "--concurrency", "6"]), client: client,
      tenants: ["acme", "globex"])
    let all = result.tenants.reduce(into: LoadTally()) { $0.merge($1) }
    #expect(all.requests == 50 && all.ok == 50 && result.stoppedBy == .requests)
    #expect(result.ledger.total == 50 && result.warmupRequests == 0)
    #expect(result.tenants.allSatisfy { $0.requests > 0 })
    #expect(client.requests.withLock { $0.count } == 50)

    let table = LoadReport(
      options: try options(["--requests", "50", "--warmup", "0", "--concurrency", "6"]),
      transport: "rpc", tenantLabels: ["acme", "globex"], result: result
    ).table
    #expect(table.contains("2 tenant label(s), 6 worker(s)"))
    #expect(table.contains("warm-up of 0 request(s), not counted below; stopped by"))
  }

  @Test("the duration bound ends the run when the request bound is far away")
  func durationBound() async throws {
    let client = RecordingClient(pause: .milliseconds(5))
    let started = ContinuousClock.now
    let result = await run(
      try options(["--requests", "1000000", "--duration", "300ms", "--warmup", "0"]),
      client: client)
    let took = started.duration(to: .now)
    let all = result.tenants[0]
    #expect(result.stoppedBy == .duration && all.requests > 0)
    #expect(result.elapsed >= .milliseconds(300) && took < .seconds(5))
    #expect(all.latency.value(atQuantile: 0.5) >= 5_000_000)
  }

  @Test("an interrupt ends the run early, as Control-C does")
  func interrupt() async throws {
    let options = try options(["--requests", "1000000", "--duration", "20s", "--warmup", "0"])
    let budget = RequestBudget(limit: options.requests)
    let corpora = [
      TenantCorpus(
        tenant: TenantCredential(tenant: "acme", token: "t"), documentIDs: ["d1"],
        terms: ["alpha"])
    ]
    let started = ContinuousClock.now
    async let result = LoadRunner(
      options: options, client: RecordingClient(pause: .milliseconds(2)), corpora: corpora,
      runID: "r", budget: budget
    ).run()
    try await Task.sleep(for: .milliseconds(200))
    budget.interrupt()
    let ended = await result
    #expect(ended.stoppedBy == .interrupt && ended.tenants[0].requests > 0)
    #expect(started.duration(to: .now) < .seconds(5))
  }

  @Test("warm-up requests are sent but not measured")
  func warmup() async throws {
    let client = RecordingClient(pause: .milliseconds(2))
    let result = await run(
      try options(["--requests", "20", "--warmup", "150ms", "--concurrency", "2"]),
      client: client)
    #expect(result.warmupRequests > 0)
    #expect(result.tenants[0].requests == 20)
    #expect(result.ledger.total == 20 + result.warmupRequests)
  }

  @Test("the same seed sends the same requests; another seed does not")
  func seeded() async throws {
    func sequence(_ seed: String) async throws -> [String] {
      let client = RecordingClient()
      _ = await run(
        try options(["--requests", "40", "--warmup", "0", "--concurrency", "1", "--seed", seed]),
        client: client)
      return client.requests.withLock { $0 }
    }
    let first = try await sequence("3")
    #expect(first.count == 40)
    #expect(try await sequence("3") == first)
    #expect(try await sequence("4") != first)
    #expect(first.contains { $0.hasPrefix("acme search ") })
    #expect(first.contains { $0 == "acme get d9" || $0.hasPrefix("acme get d") })
  }
}
