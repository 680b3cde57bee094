import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTLS

/// bench/gateway: searches through the gateway's external RPC port against the same searches
/// sent straight to kp-knowledge over mutual TLS RPC, in alternating rounds; then the noisy
/// neighbour: tenant B searching at a steady rate alone, and while tenant A sends ten times its
/// plan's rate limit.
struct GatewayBench {
  let mesh: BenchMesh
  let documentation: String
  let queryCount: Int
  let passes: Int
  let rounds: Int
  /// The noisy tenant's plan, whose rate limit A exceeds tenfold.
  let noisyPlan: String
  /// B's steady rate, requests per second.
  let steadyRate: Double
  /// How long each noisy-neighbour phase lasts.
  let phase: Duration
  /// How long A runs before B's phase starts.
  let noisyLead: Duration

  /// Everything measured.
  struct Result {
    var documents = 0
    var chunks = 0
    var loadSeconds: [Double] = []
    var queries: [BenchQuery] = []
    var equalAnswers = 0
    var emptyQueries = 0
    var gateway: [Int: Latency.Figures] = [:]
    var direct: [Int: Latency.Figures] = [:]
    var noisyLimit = 0
    var noisyRate = 0.0
    var noisyLeadSeconds = 0
    var steadyAlone = Latency.Figures()
    var steadyWithNoisy = Latency.Figures()
    var noisy = Latency.Figures()
    var steadyAloneRounds: [Double] = []
    var steadyWithNoisyRounds: [Double] = []
  }

  func run() async throws -> Result {
    var result = Result()
    say("normalising and chunking \(documentation)")
    let corpus = try Corpus.load(directory: documentation)
    result.queries = QueryMix.make(
      count: queryCount, chunks: corpus.documents.flatMap { $0.chunks.map(\.text) })
    result.documents = corpus.documents.count
    result.chunks = corpus.chunkCount
    let queries = result.queries.map(\.text)

    say("making tenants B (plan \(BenchMesh.unlimitedPlan)) and A (plan \(noisyPlan))")
    let steady = try await mesh.makeTenant(slug: "bench-b", plan: BenchMesh.unlimitedPlan)
    let noisy = try await mesh.makeTenant(slug: "bench-a", plan: noisyPlan)
    for tenant in [steady, noisy] {
      say("loading \(corpus.documents.count) documents into \(tenant.slug)")
      result.loadSeconds.append(try await mesh.load(corpus.documents, into: tenant))
    }
    result.noisyLimit = try planRate(noisyPlan)
    result.noisyRate = Double(result.noisyLimit * 10)
    result.noisyLeadSeconds = Int(noisyLead.components.seconds)

    let gateway = try gatewayChannel()
    defer { gateway.close() }
    let direct = mesh.knowledgeChannel
    let directOptions = mesh.directOptions(steady)
    let steadyOptions = Self.bearer(steady)
    let noisyOptions = Self.bearer(noisy)

    // The same answers both ways; this pass also warms both paths.
    say("checking that both paths answer alike")
    for query in queries {
      let request = Self.request(query)
      let viaGateway = try await gateway.unary(
        Kp_Knowledge_V1_Knowledge.search, request, options: steadyOptions
      ).hits.map(\.documentId)
      let viaDirect = try await direct.unary(
        Kp_Knowledge_V1_Knowledge.search, request, options: directOptions
      ).hits.map(\.documentId)
      if viaGateway == viaDirect { result.equalAnswers += 1 }
      if viaGateway.isEmpty { result.emptyQueries += 1 }
    }

    let requests = queries.map(Self.request)
    for concurrency in [1, 16] {
      say("gateway and direct at concurrency \(concurrency), \(rounds) rounds each")
      var viaGateway: [Latency.Figures] = []
      var viaDirect: [Latency.Figures] = []
      let count = requests.count * passes
      for _ in 0..<rounds {
        viaGateway.append(
          await Latency.closedLoop(count: count, concurrency: concurrency) { index in
            await Self.search(gateway, requests[index % requests.count], steadyOptions)
          })
        viaDirect.append(
          await Latency.closedLoop(count: count, concurrency: concurrency) { index in
            await Self.search(direct, requests[index % requests.count], directOptions)
          })
      }
      result.gateway[concurrency] = Latency.median(viaGateway)
      result.direct[concurrency] = Latency.median(viaDirect)
    }

    say(
      "noisy neighbour: B at \(Int(steadyRate))/s, A at \(Int(result.noisyRate))/s "
        + "(10x its limit), \(rounds) rounds of \(phase) each")
    var alone: [Latency.Figures] = []
    var together: [Latency.Figures] = []
    var flood: [Latency.Figures] = []
    let rate = steadyRate
    let noisyRate = result.noisyRate
    let phase = phase
    for _ in 0..<rounds {
      alone.append(
        await Latency.paced(rate: rate, duration: phase, maximumInFlight: 64) { index in
          await Self.search(gateway, requests[index % requests.count], steadyOptions)
        })
      // A's bucket refills while B runs alone; the pause lets it empty between rounds alike.
      try await Task.sleep(for: .seconds(1))
      // A starts first, so B is measured while A runs at a steady 10x, past the burst its
      // plan lets through at once.
      let lead = noisyLead
      async let steadyRun = Self.after(lead) {
        await Latency.paced(rate: rate, duration: phase, maximumInFlight: 64) { index in
          await Self.search(gateway, requests[index % requests.count], steadyOptions)
        }
      }
      async let noisyRun = Latency.paced(
        rate: noisyRate, duration: phase + lead, maximumInFlight: 256
      ) { index in
        await Self.search(gateway, requests[(index * 7) % requests.count], noisyOptions)
      }
      let (steadyFigures, noisyFigures) = await (steadyRun, noisyRun)
      together.append(steadyFigures)
      flood.append(noisyFigures)
      try await Task.sleep(for: .seconds(1))
    }
    result.steadyAlone = Latency.median(alone)
    result.steadyWithNoisy = Latency.median(together)
    result.noisy = Latency.median(flood)
    result.steadyAloneRounds = alone.map(\.p99)
    result.steadyWithNoisyRounds = together.map(\.p99)
    return result
  }

  /// Runs `body` after a pause.
  static func after(
    _ pause: Duration, _ body: @Sendable () async -> Latency.Figures
  ) async -> Latency.Figures {
    try? await Task.sleep(for: pause)
    return await body()
  }

  /// A channel to the gateway's external RPC port as an SDK client makes it: server-verified
  /// TLS, no client certificate, two connections, no retries.
  private func gatewayChannel() throws -> RPCChannel {
    let tls = try TLSContext(configuration: .externalClient(trustRoots: mesh.caPath))
    var configuration = RPCClientConfiguration()
    configuration.connectionsPerEndpoint = 2
    configuration.defaultTimeout = .seconds(10)
    configuration.retry.maximumAttempts = 1
    return RPCChannel(
      target: RPCTarget(
        endpoints: [SocketAddress(host: "127.0.0.1", port: mesh.rpcPort)],
        expectedIdentity: nil, serverName: "127.0.0.1"),
      tls: tls, configuration: configuration)
  }

  /// The requests per second a plan allows, from the registry.
  private func planRate(_ plan: String) throws -> Int {
    let connection = try mesh.connection(name: "kp-bench-plans")
    defer { connection.close() }
    let rows = try connection.query(
      "SELECT requests_per_second FROM kp_registry.plans WHERE id = $1", [plan])
    guard let text = rows.first?["requests_per_second"] ?? nil, let rate = Int(text) else {
      throw BenchError("the registry has no plan \(plan)")
    }
    return rate
  }

  static func request(_ query: String) -> Kp_Knowledge_V1_SearchRequest {
    var request = Kp_Knowledge_V1_SearchRequest()
    request.query = query
    request.pageSize = 10
    return request
  }

  static func bearer(_ tenant: BenchMesh.Tenant) -> CallOptions {
    var options = CallOptions(timeout: .seconds(10))
    options.metadata.add(MetadataKey.authorization, "Bearer " + tenant.token)
    return options
  }

  /// One search; nil on success, else the status code's name.
  static func search(
    _ channel: RPCChannel, _ request: Kp_Knowledge_V1_SearchRequest, _ options: CallOptions
  ) async -> String? {
    do {
      _ = try await channel.unary(Kp_Knowledge_V1_Knowledge.search, request, options: options)
      return nil
    } catch {
      return error.code.name
    }
  }
}
