import Foundation
import KPDatabase
import KPDocuments
import KPProtocol
import KPRPC

/// bench/search: the same queries through kp-knowledge over RPC, as the same SQL straight to
/// PostgreSQL, and through tantivy indexing the same chunks, on the PostgreSQL documentation
/// and on a larger mix built from it.
struct SearchBench {
  let setup: BenchSetup
  let documentation: String
  let variants: Int
  let queryCount: Int
  let passes: Int
  let rounds: Int
  let python: String
  let peerScript: String
  let work: String

  /// The user the queries search as: a member of `eng`, outside `hr`.
  static let user = "u-bench"
  static let groups = ["eng"]

  /// One corpus's figures.
  struct Result {
    var name: String
    var documents: Int
    var chunks: Int
    var megabytes: Double
    var loadSeconds: Double
    var service: [Int: Latency.Figures]
    var sql: [Int: Latency.Figures]
    var tantivy: [String: Double]
    var mismatches: Int
    var emptyQueries: Int
  }

  func run() async throws -> (queries: [BenchQuery], results: [Result]) {
    say("normalising and chunking \(documentation)")
    let base = try Corpus.load(directory: documentation)
    let mix = base.mixed(variants: variants)
    let queries = QueryMix.make(
      count: queryCount, chunks: base.documents.flatMap { $0.chunks.map(\.text) })
    let queryFile = work + "/queries.jsonl"
    try Data(
      queries.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        .joined(separator: "\n").utf8
    ).write(to: URL(fileURLWithPath: queryFile))

    let knowledge = try await setup.start("kp-knowledge", service: "knowledge", pool: 16)
    defer { knowledge.stop() }
    let ingest = try setup.channel(as: "ingest", to: "knowledge", port: knowledge.port)
    let gateway = try setup.channel(as: "gateway", to: "knowledge", port: knowledge.port)
    defer {
      ingest.close()
      gateway.close()
    }

    var results: [Result] = []
    for (name, corpus) in [("pgdocs", base), ("mix x\(variants + 1)", mix)] {
      let tenant = results.isEmpty ? setup.tenantID : TenantScope.newTenantID()
      if !results.isEmpty { try await setup.provision(tenant, slug: "bench-mix") }
      results.append(
        try await measure(
          name, corpus, tenant: tenant, queries: queries, queryFile: queryFile,
          ingest: ingest, gateway: gateway))
    }
    return (queries, results)
  }

  private func measure(
    _ name: String, _ corpus: Corpus, tenant: String, queries: [BenchQuery], queryFile: String,
    ingest: RPCChannel, gateway: RPCChannel
  ) async throws -> Result {
    say("\(name): loading \(corpus.documents.count) documents through UpsertDocuments")
    let loadStart = ContinuousClock.now
    try await corpus.upsert(tenant: tenant, through: ingest)
    let loadSeconds = Latency.milliseconds(since: loadStart) / 1000
    let maintenance = try setup.tenantConnection("kp-bench-vacuum", tenant: tenant)
    try maintenance.execute("RESET ROLE")
    try maintenance.execute("VACUUM ANALYZE chunks")
    try maintenance.execute("VACUUM ANALYZE documents")
    maintenance.close()

    // The service's requests and the statement with its parameters, made once up front.
    let requests = queries.map { query in
      var request = Kp_Knowledge_V1_SearchRequest()
      request.query = query.text
      request.pageSize = 10
      return request
    }
    let statements = try queries.map { query in
      SearchStatement.parameters(
        try SearchQuery(parsing: query.text), users: [Self.user], groups: Self.groups,
        filters: Kp_Knowledge_V1_SearchFilters(), size: 10, offset: 0)
    }
    // For a look at the plans afterwards: the statement and each query's parameters.
    try Data(SearchStatement.sql.utf8).write(to: URL(fileURLWithPath: work + "/statement.sql"))
    try Data(
      statements.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        .joined(separator: "\n").utf8
    ).write(to: URL(fileURLWithPath: work + "/parameters.jsonl"))
    var options = CallOptions()
    options.metadata.add(MetadataKey.tenant, tenant)
    options.metadata.add(MetadataKey.user, Self.user)
    options.metadata.add("kp-groups", Self.groups.joined(separator: ","))
    let callOptions = options
    let connections = try (0..<16).map { index in
      try setup.tenantConnection("kp-bench-sql-\(index)", tenant: tenant)
    }
    defer {
      for connection in connections { connection.close() }
    }

    // The same answers both ways: the bare SQL is the service's statement.
    var mismatches = 0
    var empty = 0
    for (request, parameters) in zip(requests, statements) {
      let hits = try await gateway.unary(
        Kp_Knowledge_V1_Knowledge.search, request, options: callOptions
      ).hits.map(\.documentId)
      let rows = try connections[0].query(SearchStatement.sql, parameters)
        .compactMap { $0["document_id"] ?? nil }
      if hits != rows { mismatches += 1 }
      if hits.isEmpty { empty += 1 }
    }

    var service: [Int: Latency.Figures] = [:]
    var sql: [Int: Latency.Figures] = [:]
    // Rounds alternate between the service and the bare SQL, so both see the same machine.
    for concurrency in [1, 16] {
      say("\(name): service and bare SQL at concurrency \(concurrency), \(rounds) rounds each")
      var serviceRounds: [Latency.Figures] = []
      var sqlRounds: [Latency.Figures] = []
      for _ in 0..<rounds {
        serviceRounds.append(
          try await Latency.measure(
            count: requests.count, passes: passes, concurrency: concurrency, rounds: 1
          ) { index in
            _ = try await gateway.unary(
              Kp_Knowledge_V1_Knowledge.search, requests[index], options: callOptions)
          })
        sqlRounds.append(
          try Latency.measureThreads(
            count: statements.count, passes: passes, concurrency: concurrency, rounds: 1
          ) { worker, index in
            try connections[worker].query(SearchStatement.sql, statements[index])
          })
      }
      service[concurrency] = Latency.median(serviceRounds)
      sql[concurrency] = Latency.median(sqlRounds)
    }

    say("\(name): tantivy indexing the same chunks")
    let chunkFile = work + "/chunks.jsonl"
    try corpus.writeChunks(to: chunkFile)
    let tantivy = try runPeer(chunks: chunkFile, queries: queryFile)

    return Result(
      name: name, documents: corpus.documents.count, chunks: corpus.chunkCount,
      megabytes: Double(corpus.textBytes) / 1_048_576, loadSeconds: loadSeconds,
      service: service, sql: sql, tantivy: tantivy, mismatches: mismatches,
      emptyQueries: empty)
  }

  /// Runs the tantivy peer; returns the figures it printed.
  private func runPeer(chunks: String, queries: String) throws -> [String: Double] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [
      peerScript, "--chunks", chunks, "--queries", queries, "--passes", "\(passes)",
      "--rounds", "\(rounds)",
    ]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
      let figures = try? JSONDecoder().decode([String: Double].self, from: data)
    else {
      throw BenchError("the tantivy peer failed (status \(process.terminationStatus))")
    }
    return figures
  }
}
