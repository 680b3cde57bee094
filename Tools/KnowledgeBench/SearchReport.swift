import Foundation

/// bench/search's table and JSON line.
struct SearchReport {
  let queries: [BenchQuery]
  let results: [SearchBench.Result]

  func print() {
    let kinds = Dictionary(grouping: queries, by: \.kind).mapValues(\.count)
    Swift.print(
      "queries: \(queries.count) ("
        + kinds.keys.sorted().map { "\($0) \(kinds[$0] ?? 0)" }.joined(separator: ", ")
        + "), top 10, as a user in group eng")
    let widths = [34, 16, 16, 16, 14]
    var figures: [String: Double] = ["queries": Double(queries.count)]
    var targets: [String] = []
    for result in results {
      Swift.print("")
      Swift.print(
        "\(result.name): \(result.documents) documents, \(result.chunks) chunks, "
          + "\(fixed(result.megabytes, 1)) MB of text; loaded through UpsertDocuments in "
          + "\(fixed(result.loadSeconds, 1)) s; answers equal to bare SQL: "
          + "\(queries.count - result.mismatches)/\(queries.count); "
          + "queries with no hit: \(result.emptyQueries)")
      Swift.print(
        row(["figure (ms)", "kp-knowledge", "bare SQL", "tantivy", "kp / SQL"], widths: widths))
      let key = result.name.split(separator: " ").first.map(String.init) ?? result.name
      for concurrency in [1, 16] {
        guard let service = result.service[concurrency], let sql = result.sql[concurrency]
        else { continue }
        let peer = result.tantivy
        for (label, mine, bare, tantivy) in [
          ("p50", service.p50, sql.p50, peer["c\(concurrency)_p50_ms"] ?? 0),
          ("p99", service.p99, sql.p99, peer["c\(concurrency)_p99_ms"] ?? 0),
          ("queries/s", service.perSecond, sql.perSecond, peer["c\(concurrency)_qps"] ?? 0),
        ] {
          let ratio = label == "queries/s" ? bare / max(mine, 1e-9) : mine / max(bare, 1e-9)
          Swift.print(
            row(
              [
                "\(label), concurrency \(concurrency)", fixed(mine), fixed(bare), fixed(tantivy),
                fixed(ratio, 2) + "x",
              ], widths: widths))
        }
        let prefix = "\(key)_c\(concurrency)"
        figures["\(prefix)_service_p50_ms"] = service.p50
        figures["\(prefix)_service_p99_ms"] = service.p99
        figures["\(prefix)_service_qps"] = service.perSecond
        figures["\(prefix)_sql_p50_ms"] = sql.p50
        figures["\(prefix)_sql_p99_ms"] = sql.p99
        figures["\(prefix)_sql_qps"] = sql.perSecond
        figures["\(prefix)_tantivy_p50_ms"] = peer["c\(concurrency)_p50_ms"] ?? 0
        figures["\(prefix)_tantivy_p99_ms"] = peer["c\(concurrency)_p99_ms"] ?? 0
        figures["\(prefix)_tantivy_qps"] = peer["c\(concurrency)_qps"] ?? 0
        let tantivyP99 = peer["c\(concurrency)_p99_ms"] ?? 0
        figures["\(prefix)_p99_ratio_to_tantivy"] = tantivyP99 > 0 ? service.p99 / tantivyP99 : 0
        let ratio = sql.p99 > 0 ? service.p99 / sql.p99 : 0
        targets.append(
          targetJSON(
            name: "\(prefix)_p99_vs_bare_sql", value: ratio, peer: 1.0, goal: "<= 1.5",
            met: ratio <= 1.5))
      }
      Swift.print(
        "tantivy \(result.name): indexed \(result.chunks) chunks in "
          + "\(fixed(result.tantivy["index_seconds"] ?? 0, 1)) s (in-process, no RPC)")
      figures["\(key)_documents"] = Double(result.documents)
      figures["\(key)_chunks"] = Double(result.chunks)
      figures["\(key)_text_mb"] = result.megabytes
      figures["\(key)_load_seconds"] = result.loadSeconds
      figures["\(key)_answers_equal_to_sql"] = Double(queries.count - result.mismatches)
      figures["\(key)_tantivy_index_seconds"] = result.tantivy["index_seconds"] ?? 0
    }
    Swift.print(
      "{\"bench\": \"search\", \"figures\": \(figuresJSON(figures)), \"targets\": ["
        + targets.joined(separator: ", ") + "]}")
  }
}
