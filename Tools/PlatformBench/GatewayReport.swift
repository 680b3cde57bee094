/// bench/gateway's table and JSON line.
struct GatewayReport {
  let result: GatewayBench.Result
  let steadyRate: Double

  func print() {
    var report = Report()
    let kinds = Dictionary(grouping: result.queries, by: \.kind).mapValues(\.count)
    Swift.print(
      "corpus: \(result.documents) pages of the PostgreSQL documentation, \(result.chunks) "
        + "chunks, loaded into tenants B and A in "
        + result.loadSeconds.map { Report.fixed($0, 1) + " s" }.joined(separator: " and "))
    Swift.print(
      "queries: \(result.queries.count) ("
        + kinds.keys.sorted().map { "\($0) \(kinds[$0] ?? 0)" }.joined(separator: ", ")
        + "), top 10, as a member of group eng; same hits through the gateway and direct: "
        + "\(result.equalAnswers)/\(result.queries.count); with no hit: \(result.emptyQueries)")
    Swift.print("")
    let widths = [30, 18, 22, 16]
    Swift.print(
      Report.row(
        ["search (B)", "gateway RPC port", "kp-knowledge direct", "gateway / direct"],
        widths: widths))
    for concurrency in [1, 16] {
      guard let gateway = result.gateway[concurrency], let direct = result.direct[concurrency]
      else { continue }
      for (label, mine, peer) in [
        ("p50 ms", gateway.p50, direct.p50), ("p99 ms", gateway.p99, direct.p99),
        ("searches/s", gateway.perSecond, direct.perSecond),
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
            "failures, concurrency \(concurrency)", "\(gateway.failures)/\(gateway.requests)",
            "\(direct.failures)/\(direct.requests)", "",
          ], widths: widths))
      report.figures("gateway_c\(concurrency)", gateway)
      report.figures("direct_c\(concurrency)", direct)
    }

    let alone = result.steadyAlone
    let together = result.steadyWithNoisy
    let noisy = result.noisy
    Swift.print("")
    Swift.print(
      "noisy neighbour: B searches at a steady \(Report.fixed(steadyRate, 0))/s (open loop); "
        + "A sends \(Report.fixed(result.noisyRate, 0))/s, 10x its plan's limit of "
        + "\(result.noisyLimit)/s, from \(result.noisyLeadSeconds) s before B's phase to its end")
    Swift.print(
      Report.row(["search (B)", "B alone", "B with A", "with / alone"], widths: widths))
    for (label, without, with) in [
      ("p50 ms", alone.p50, together.p50), ("p99 ms", alone.p99, together.p99),
    ] {
      Swift.print(
        Report.row(
          [
            label, Report.fixed(without), Report.fixed(with),
            Report.fixed(with / max(without, 1e-9)) + "x",
          ], widths: widths))
    }
    Swift.print(
      Report.row(
        [
          "p99 ms of each round",
          result.steadyAloneRounds.map { Report.fixed($0) }
            .joined(separator: " "),
          result.steadyWithNoisyRounds.map { Report.fixed($0) }.joined(separator: " "), "",
        ], widths: widths))
    Swift.print(
      Report.row(
        [
          "B failures", "\(alone.failures)/\(alone.requests)",
          "\(together.failures)/\(together.requests)", "",
        ], widths: widths))
    let refused = noisy.failuresByCode["RESOURCE_EXHAUSTED"] ?? 0
    let other = noisy.failures - refused
    Swift.print(
      "A: \(noisy.requests) requests, \(noisy.requests - noisy.failures) served "
        + "(\(Report.fixed(noisy.perSecond, 1))/s, p99 \(Report.fixed(noisy.p99)) ms), "
        + "\(refused) refused with RESOURCE_EXHAUSTED, \(other) other failures "
        + noisy.failuresByCode.filter { $0.key != "RESOURCE_EXHAUSTED" }.description)
    report.figures("steady_alone", alone)
    report.figures("steady_with_noisy", together)
    report.figures("noisy", noisy)
    report.figure("noisy_refused", Double(refused))
    report.figure("noisy_rate_sent_per_s", result.noisyRate)
    report.figure("noisy_plan_limit_per_s", Double(result.noisyLimit))
    report.figure("steady_rate_per_s", steadyRate)
    report.figure("documents_per_tenant", Double(result.documents))
    report.figure("queries", Double(result.queries.count))
    report.figure("answers_equal", Double(result.equalAnswers))

    if let gateway = result.gateway[16], let direct = result.direct[16] {
      let ratio = gateway.p99 / max(direct.p99, 1e-9)
      report.target(
        name: "p99_c16_gateway_vs_direct", value: ratio, peer: 1.0, goal: "<= 1.2",
        met: ratio <= 1.2)
    }
    let noisyRatio = together.p99 / max(alone.p99, 1e-9)
    report.target(
      name: "steady_p99_with_noisy_vs_alone", value: noisyRatio, peer: 1.0, goal: "<= 1.2",
      met: noisyRatio <= 1.2 && together.failures == 0)
    Swift.print(report.json(bench: "gateway"))
  }
}
