import Foundation
import KPDatabase
import KPDocuments
import KPHTTP
import KPProtocol
import Synchronization

/// bench/e2e: ten tenants loaded from real documentation (the PostgreSQL manual and the Git
/// manual, alternately), searched through the whole platform (HTTPS to the gateway, the
/// gateway's token check, rate limit and fair queue, RPC to kp-knowledge, PostgreSQL) at
/// several concurrencies, against the floor: the same searches sent as kp-knowledge's own SQL
/// statement straight to PostgreSQL, in the tenant's scope, in alternating rounds.
struct E2EBench {
  let mesh: BenchMesh
  /// The corpora, taken by tenants in turn.
  let documentation: [String]
  let tenantCount: Int
  let queryCount: Int
  let concurrencies: [Int]
  /// Requests per round at concurrency 1, and at every higher concurrency.
  let singleRequests: Int
  let requests: Int
  let rounds: Int

  /// Everything measured.
  struct Result {
    var documents = 0
    var chunks = 0
    var megabytes = 0.0
    var loadSeconds = 0.0
    var queries = 0
    var checked = 0
    var equalAnswers = 0
    var queriesWithHits = 0
    var mesh: [Int: Latency.Figures] = [:]
    var floor: [Int: Latency.Figures] = [:]
  }

  /// One search of the run: a tenant and a query of its corpus.
  private struct Item: Sendable {
    var tenant: Int
    var query: String
    var parameters: [String?]
  }

  func run() async throws -> Result {
    var result = Result()
    var corpora: [(documents: [Kp_Knowledge_V1_Document], queries: [String])] = []
    for directory in documentation {
      say("normalising and chunking \(directory)")
      let corpus = try Corpus.load(directory: directory)
      let queries = QueryMix.make(
        count: queryCount, chunks: corpus.documents.flatMap { $0.chunks.map(\.text) })
      corpora.append((corpus.documents, queries.map(\.text)))
    }

    var tenants: [BenchMesh.Tenant] = []
    let loadStart = ContinuousClock.now
    for index in 0..<tenantCount {
      let tenant = try await mesh.makeTenant(slug: "bench-\(index)", plan: "enterprise")
      let corpus = corpora[index % corpora.count]
      say("loading \(corpus.documents.count) documents into \(tenant.slug)")
      _ = try await mesh.load(corpus.documents, into: tenant)
      result.documents += corpus.documents.count
      result.chunks += corpus.documents.reduce(0) { $0 + $1.chunks.count }
      result.megabytes +=
        Double(corpus.documents.reduce(0) { $0 + $1.title.utf8.count + $1.text.utf8.count })
        / 1_048_576
      tenants.append(tenant)
    }
    result.loadSeconds = Latency.seconds(since: loadStart)
    result.queries = corpora.reduce(0) { $0 + $1.queries.count }

    // Item i searches tenant i mod n with the next query of that tenant's corpus.
    let perTenant = corpora.map(\.queries.count).min() ?? 0
    guard perTenant > 0 else { throw BenchError("the corpora gave no query") }
    var items: [Item] = []
    for index in 0..<(tenantCount * perTenant) {
      let tenant = index % tenantCount
      let query = corpora[tenant % corpora.count].queries[(index / tenantCount) % perTenant]
      let parameters = SearchStatement.parameters(
        try SearchQuery(parsing: query), users: [tenants[tenant].userID],
        groups: tenants[tenant].groups, filters: Kp_Knowledge_V1_SearchFilters(), size: 10,
        offset: 0)
      items.append(Item(tenant: tenant, query: query, parameters: parameters))
    }

    let workers = concurrencies.max() ?? 1
    say("opening \(workers) HTTPS connections and \(workers) PostgreSQL sessions")
    let https = try (0..<workers).map { _ in
      try HTTPSClient(
        host: "127.0.0.1", port: mesh.httpsPort, trustRoots: mesh.caPath,
        timeout: .seconds(10))
    }
    let sessions = try (0..<workers).map { worker in
      FloorSession(connection: try mesh.connection(name: "kp-bench-floor-\(worker)"))
    }
    defer {
      for client in https { client.close() }
      for session in sessions { session.connection.close() }
    }
    let scopes = try tenants.map(BenchMesh.scopeSQL)
    let tokens = tenants.map { "Bearer " + $0.token }

    // The same answers both ways, for every query of the first tenant of each corpus.
    say("checking that the platform and the floor answer alike")
    for item in items where item.tenant < corpora.count {
      let response = try https[0].send(
        .get, Self.searchTarget(item.query), headers: [("Authorization", tokens[item.tenant])])
      guard response.status == 200 else {
        throw BenchError("search answered \(response.status): \(response.text)")
      }
      let results = response.jsonObject?["results"] as? [[String: Any]] ?? []
      let viaMesh = results.compactMap { $0["document_id"] as? String }
      let viaFloor = try sessions[0].search(item, scope: scopes[item.tenant])
      result.checked += 1
      if viaMesh == viaFloor { result.equalAnswers += 1 }
      if !viaMesh.isEmpty { result.queriesWithHits += 1 }
    }

    let frozen = items
    for concurrency in concurrencies {
      let count = concurrency == 1 ? singleRequests : requests
      say("platform and floor at concurrency \(concurrency), \(rounds) rounds of \(count)")
      var viaMesh: [Latency.Figures] = []
      var viaFloor: [Latency.Figures] = []
      for _ in 0..<rounds {
        viaMesh.append(
          Latency.threads(count: count, concurrency: concurrency) { worker, index in
            let item = frozen[index % frozen.count]
            do throws(HTTPClientError) {
              let response = try https[worker].send(
                .get, Self.searchTarget(item.query),
                headers: [("Authorization", tokens[item.tenant])])
              return response.status == 200 ? nil : "HTTP \(response.status)"
            } catch {
              return "\(error.code)"
            }
          })
        viaFloor.append(
          Latency.threads(count: count, concurrency: concurrency) { worker, index in
            let item = frozen[index % frozen.count]
            do {
              _ = try sessions[worker].search(item, scope: scopes[item.tenant])
              return nil
            } catch {
              return "SQL"
            }
          })
      }
      result.mesh[concurrency] = Latency.median(viaMesh)
      result.floor[concurrency] = Latency.median(viaFloor)
    }
    return result
  }

  /// `/v1/search?q=...&limit=10`.
  static func searchTarget(_ query: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    let encoded = query.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    return "/v1/search?q=\(encoded)&limit=10"
  }

  /// One floor worker's PostgreSQL session and the tenant whose scope it is in.
  private final class FloorSession: @unchecked Sendable {
    let connection: PostgresConnection
    private var scope = ""

    init(connection: PostgresConnection) {
      self.connection = connection
    }

    /// Runs kp-knowledge's search statement in the item's tenant scope, entering that scope
    /// first when the session is in another; returns the hits' document ids.
    func search(_ item: Item, scope wanted: String) throws -> [String] {
      if scope != wanted {
        try connection.execute("RESET ROLE; " + wanted)
        scope = wanted
      }
      return try connection.query(SearchStatement.sql, item.parameters)
        .compactMap { $0["document_id"] ?? nil }
    }
  }
}
