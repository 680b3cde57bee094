/// bench/e2e's table and JSON line.
struct E2EReport {
  let result: E2EBench.Result
  let tenants: Int

  func print() {
    var report = Report()
    Swift.print(
      "\(tenants) tenants: \(result.documents) documents, \(result.chunks) chunks, "
        + "\(Report.fixed(result.megabytes, 1)) MB of text, loaded in "
        + "\(Report.fixed(result.loadSeconds, 1)) s (PostgreSQL and Git manuals in turn)")
    Swift.print(
      "queries: \(result.queries) from the corpora, top 10, each tenant's own, as a member of "
        + "group eng; checked \(result.checked): same hits as the floor "
        + "\(result.equalAnswers), with hits \(result.queriesWithHits)")
    Swift.print("")
    let widths = [30, 20, 18, 16]
    Swift.print(
      Report.row(["search", "platform (HTTPS)", "floor (SQL)", "platform / floor"], widths: widths))
    for concurrency in result.mesh.keys.sorted() {
      guard let mesh = result.mesh[concurrency], let floor = result.floor[concurrency] else {
        continue
      }
      for (label, mine, peer) in [
        ("p50 ms", mesh.p50, floor.p50), ("p99 ms", mesh.p99, floor.p99),
        ("searches/s", mesh.perSecond, floor.perSecond),
      ] {
        Swift.print(
          Report.row(
            [
              "\(label), concurrency \(concurrency)", Report.fixed(mine), Report.fixed(peer),
              Report.fixed(mine / max(peer, 1e-9)) + "x",
            ], widths: widths))
      }
      Swift.print(
        Report.row(
          [
            "failures, concurrency \(concurrency)", "\(mesh.failures)/\(mesh.requests)",
            "\(floor.failures)/\(floor.requests)",
            mesh.failuresByCode.isEmpty ? "" : mesh.failuresByCode.description,
          ], widths: widths))
      report.figures("platform_c\(concurrency)", mesh)
      report.figures("floor_c\(concurrency)", floor)
    }
    report.figure("tenants", Double(tenants))
    report.figure("documents", Double(result.documents))
    report.figure("chunks", Double(result.chunks))
    report.figure("load_seconds", result.loadSeconds)
    report.figure("answers_checked", Double(result.checked))
    report.figure("answers_equal", Double(result.equalAnswers))
    report.figure("answers_with_hits", Double(result.queriesWithHits))
    if let mesh = result.mesh[16], let floor = result.floor[16] {
      let ratio = mesh.perSecond / max(floor.perSecond, 1e-9)
      report.target(
        name: "searches_per_s_c16_vs_sql_floor", value: ratio, peer: 1.0, goal: ">= 0.5",
        met: ratio >= 0.5 && mesh.failures == 0)
    }
    Swift.print(report.json(bench: "e2e"))
  }
}
