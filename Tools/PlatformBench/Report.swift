import Foundation

/// The benches' output: aligned table rows, figures and targets as one JSON line.
struct Report {
  private var figures: [String: Double] = [:]
  private var targets: [String] = []

  /// A number with `digits` decimals.
  static func fixed(_ value: Double, _ digits: Int = 2) -> String {
    String(format: "%.\(digits)f", value)
  }

  /// Cells padded to their columns' widths.
  static func row(_ cells: [String], widths: [Int]) -> String {
    zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined()
  }

  /// Records a figure for the JSON line.
  mutating func figure(_ name: String, _ value: Double) {
    figures[name] = value
  }

  /// Records a measurement's p50, p99, rate and failures under a prefix.
  mutating func figures(_ prefix: String, _ measured: Latency.Figures) {
    figures[prefix + "_p50_ms"] = measured.p50
    figures[prefix + "_p99_ms"] = measured.p99
    figures[prefix + "_per_s"] = measured.perSecond
    figures[prefix + "_failures"] = Double(measured.failures)
  }

  /// Records a target as the bench convention writes it.
  mutating func target(name: String, value: Double, peer: Double, goal: String, met: Bool) {
    targets.append(
      "{\"name\": \"\(name)\", \"value\": \(Self.fixed(value, 3)), "
        + "\"peer\": \(Self.fixed(peer, 3)), \"goal\": \"\(goal)\", \"met\": \(met)}")
  }

  /// The JSON line: `{"bench": ..., "figures": {...}, "targets": [...]}`, keys sorted.
  func json(bench: String) -> String {
    let body = figures.keys.sorted().map { "\"\($0)\": \(Self.fixed(figures[$0] ?? 0, 4))" }
      .joined(separator: ", ")
    return "{\"bench\": \"\(bench)\", \"figures\": {\(body)}, \"targets\": ["
      + targets.joined(separator: ", ") + "]}"
  }
}
