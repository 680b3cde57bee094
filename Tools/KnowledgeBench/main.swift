// kp-bench-knowledge: drives bench/search and bench/ingest. Starts real services on a database
// of its own, loads the PostgreSQL documentation, measures the project against its peers in
// the same run, and prints a table, then one JSON line.
import Foundation
import KPTLS

/// Reads `--name value` flags.
func flag(_ name: String, _ fallback: String) -> String {
  let arguments = CommandLine.arguments
  guard let index = arguments.firstIndex(of: "--" + name), index + 1 < arguments.count else {
    return fallback
  }
  return arguments[index + 1]
}

/// Writes a progress line to standard error.
func say(_ text: String) {
  FileHandle.standardError.write(Data("kp-bench-knowledge: \(text)\n".utf8))
}

func fixed(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }

func row(_ cells: [String], widths: [Int]) -> String {
  zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined()
}

/// The JSON text of figures, keys sorted.
func figuresJSON(_ figures: [String: Double]) -> String {
  "{"
    + figures.keys.sorted().map { "\"\($0)\": \(fixed(figures[$0] ?? 0, 4))" }
    .joined(separator: ", ") + "}"
}

/// One target as the bench convention writes it.
func targetJSON(name: String, value: Double, peer: Double, goal: String, met: Bool) -> String {
  "{\"name\": \"\(name)\", \"value\": \(fixed(value)), \"peer\": \(fixed(peer)), "
    + "\"goal\": \"\(goal)\", \"met\": \(met)}"
}

TLSRuntime.ignoreSIGPIPE()
let mode = CommandLine.arguments.dropFirst().first ?? ""
let setup = try await BenchSetup(
  serverURL: flag("database-url", "postgresql://postgres@127.0.0.1:55432/postgres"),
  database: flag("database", "kp_bench_knowledge"), certificates: flag("certs-dir", ".kp/certs"))
let work = flag("work-dir", FileManager.default.temporaryDirectory.path)
let documentation = flag("docs", "/usr/share/doc/postgresql-doc-15/html")

do {
  switch mode {
  case "search":
    let bench = SearchBench(
      setup: setup, documentation: documentation, variants: Int(flag("variants", "3")) ?? 3,
      queryCount: Int(flag("queries", "200")) ?? 200, passes: Int(flag("passes", "2")) ?? 2,
      rounds: Int(flag("rounds", "3")) ?? 3, python: flag("python", "python3"),
      peerScript: flag("peer", "bench/search.d/tantivy_peer.py"), work: work)
    let (queries, results) = try await bench.run()
    SearchReport(queries: queries, results: results).print()
  case "ingest":
    let bench = IngestBench(
      setup: setup, documentation: documentation, rounds: Int(flag("rounds", "3")) ?? 3,
      work: work)
    IngestReport(result: try await bench.run()).print()
  default:
    throw BenchError("usage: kp-bench-knowledge search|ingest [--flag value ...]")
  }
} catch {
  say("failed: \(error)")
  await setup.tearDown()
  exit(1)
}
// `--keep yes` leaves the database for a look at the plans (EXPLAIN) after the run.
if flag("keep", "no") != "yes" { await setup.tearDown() }
