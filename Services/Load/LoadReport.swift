import Foundation

/// A run's results: throughput, status counts and latency percentiles, overall and per tenant,
/// as a table for people and as JSON for tools.
struct LoadReport: Sendable {
  /// The percentiles reported, with their JSON names and table headers.
  static let percentiles: [(quantile: Double, key: String, header: String)] = [
    (0.5, "p50", "P50"), (0.9, "p90", "P90"), (0.99, "p99", "P99"), (0.999, "p99_9", "P99.9"),
  ]

  /// The run's options.
  let options: LoadOptions
  /// The transport used, such as `rpc`.
  let transport: String
  /// The tenant labels, in the tallies' order.
  let tenantLabels: [String]
  /// What the run measured.
  let result: LoadResult

  /// Every tenant's tally merged.
  var overall: LoadTally {
    result.tenants.reduce(into: LoadTally()) { $0.merge($1) }
  }

  /// Measured requests per second.
  func throughput(_ tally: LoadTally) -> Double {
    let seconds = Self.seconds(result.elapsed)
    return seconds > 0 ? Double(tally.requests) / seconds : 0
  }

  // MARK: Table

  /// The report as text for a terminal.
  var table: String {
    var lines: [String] = []
    let bound =
      switch result.stoppedBy {
      case .requests: "the request bound"
      case .duration: "the duration bound"
      case .interrupt: "an interrupt"
      }
    lines.append(
      "kp-load \(transport) \(options.endpoint): \(tenantLabels.count) tenant label(s), "
        + "\(options.concurrency) worker(s) on \(options.connections) connection(s), "
        + "mix \(options.mix), seed \(options.seed)")
    lines.append(
      String(
        format: "measured %.2f s after a %.2f s warm-up of %d request(s), not counted below; "
          + "stopped by %@",
        Self.seconds(result.elapsed), Self.seconds(options.warmup), result.warmupRequests,
        bound))
    lines.append("")

    var rows: [[String]] = [
      ["TENANT", "REQUESTS", "REQ/S", "OK", "ERRORS"]
        + Self.percentiles.map { "\($0.header) MS" } + ["MAX MS"]
    ]
    func row(_ label: String, _ tally: LoadTally) -> [String] {
      [
        label, "\(tally.requests)", String(format: "%.1f", throughput(tally)), "\(tally.ok)",
        Self.errorText(tally.errors),
      ]
        + Self.percentiles.map {
          Self.milliseconds(tally.latency.value(atQuantile: $0.quantile))
        } + [Self.milliseconds(tally.latency.maximum)]
    }
    rows.append(row("(all)", overall))
    for (label, tally) in zip(tenantLabels, result.tenants) { rows.append(row(label, tally)) }
    lines.append(contentsOf: Self.align(rows))
    lines.append("")

    var operations: [[String]] = [["OPERATION", "REQUESTS", "OK", "ERRORS", "EMPTY"]]
    let all = overall
    for operation in LoadOperation.allCases where all.requests(of: operation) > 0 {
      operations.append([
        operation.rawValue, "\(all.requests(of: operation))", "\(all.ok(of: operation))",
        Self.errorText(all.errors(of: operation)),
        operation == .search ? "\(all.emptySearches)" : "-",
      ])
    }
    lines.append(contentsOf: Self.align(operations))
    return lines.joined(separator: "\n")
  }

  // MARK: JSON

  /// The report as one line of JSON with sorted keys: the run's settings (`transport`,
  /// `target`, `seed`, `concurrency`, `connections`, `mix`, `limits`), how it ended
  /// (`stopped_by`: `requests`, `duration` or `interrupt`, `elapsed_seconds` of the measured phase,
  /// `warmup_requests`), `overall` and one entry per tenant in `tenants` (each with `requests`,
  /// `ok`, `errors` by status, `throughput_per_second`, `latency_ms` with p50, p90, p99,
  /// p99_9, min, mean and max, `operations` and `empty_searches`), and `calls`: every call
  /// sent to the gateway by method (or HTTP route) and status, sampling and warm-up included,
  /// which is what the gateway's own counters grow by.
  var json: String {
    let object: [String: Any] = [
      "transport": transport,
      "target": "\(options.endpoint)",
      "seed": options.seed,
      "concurrency": options.concurrency,
      "connections": options.connections,
      "mix": Dictionary(
        uniqueKeysWithValues: options.mix.weights.map { ($0.key.rawValue, $0.value) }),
      "limits": [
        "warmup_seconds": Self.seconds(options.warmup),
        "duration_seconds": Self.seconds(options.duration),
        "requests": options.requests,
      ],
      "stopped_by": result.stoppedBy.rawValue,
      "elapsed_seconds": Self.seconds(result.elapsed),
      "warmup_requests": result.warmupRequests,
      "overall": summary(overall),
      "tenants": zip(tenantLabels, result.tenants).map { label, tally in
        var entry = summary(tally)
        entry["tenant"] = label
        return entry
      },
      "calls": result.ledger.counts,
    ]
    let data =
      (try? JSONSerialization.data(
        withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    return String(decoding: data, as: UTF8.self)
  }

  private func summary(_ tally: LoadTally) -> [String: Any] {
    var latency: [String: Double] = [:]
    for percentile in Self.percentiles {
      latency[percentile.key] = Self.millisecondsValue(
        tally.latency.value(atQuantile: percentile.quantile))
    }
    latency["max"] = Self.millisecondsValue(tally.latency.maximum)
    latency["min"] = Self.millisecondsValue(tally.latency.minimum)
    latency["mean"] = (tally.latency.mean / 1000).rounded() / 1000
    var operations: [String: Any] = [:]
    for operation in LoadOperation.allCases where tally.requests(of: operation) > 0 {
      operations[operation.rawValue] = [
        "requests": tally.requests(of: operation), "ok": tally.ok(of: operation),
        "errors": tally.errors(of: operation),
      ]
    }
    return [
      "requests": tally.requests, "ok": tally.ok, "errors": tally.errors,
      "throughput_per_second": (throughput(tally) * 100).rounded() / 100,
      "latency_ms": latency, "operations": operations, "empty_searches": tally.emptySearches,
    ]
  }

  // MARK: Formatting

  private static func seconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) + Double(attoseconds) / 1e18
  }

  private static func millisecondsValue(_ nanoseconds: UInt64) -> Double {
    (Double(nanoseconds) / 1000).rounded() / 1000
  }

  private static func milliseconds(_ nanoseconds: UInt64) -> String {
    String(format: "%.3f", Double(nanoseconds) / 1e6)
  }

  private static func errorText(_ errors: [String: Int]) -> String {
    errors.isEmpty
      ? "-"
      : errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
  }

  private static func align(_ rows: [[String]]) -> [String] {
    let widths = (0..<(rows.first?.count ?? 0)).map { column in
      rows.map { $0[column].count }.max() ?? 0
    }
    return rows.map { row in
      row.enumerated().map { column, text in
        column == 0
          ? text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
          : String(repeating: " ", count: widths[column] - text.count) + text
      }.joined(separator: "  ")
    }
  }
}
