// kp-bench-platform: drives bench/gateway and bench/e2e. Starts the whole platform on a database
// of its own, loads real documentation, measures the platform against its peer or floor in the
// same run, and prints a table, then one JSON line.
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

/// Reads a whole-number flag.
func number(_ name: String, _ fallback: Int) -> Int { Int(flag(name, "")) ?? fallback }

/// Writes a progress line to standard error.
func say(_ text: String) {
  FileHandle.standardError.write(Data("kp-bench-platform: \(text)\n".utf8))
}

TLSRuntime.ignoreSIGPIPE()
let mode = CommandLine.arguments.dropFirst().first ?? ""
guard mode == "gateway" || mode == "e2e" else {
  say("usage: kp-bench-platform gateway|e2e [--flag value ...]")
  exit(2)
}
let pgdocs = "/usr/share/doc/postgresql-doc-15/html"
let mesh: BenchMesh
do {
  say("starting the platform on database \(flag("database", "kp_bench_\(mode)"))")
  mesh = try await BenchMesh.start(
    serverURL: flag("database-url", "postgresql://postgres@127.0.0.1:55432/postgres"),
    database: flag("database", "kp_bench_\(mode)"))
} catch {
  say("failed to start the platform: \(error)")
  exit(1)
}

do {
  switch mode {
  case "gateway":
    let rate = Double(number("steady-rate", 40))
    let bench = GatewayBench(
      mesh: mesh, documentation: flag("docs", pgdocs), queryCount: number("queries", 200),
      passes: number("passes", 3), rounds: number("rounds", 3),
      noisyPlan: flag("noisy-plan", "team"), steadyRate: rate,
      phase: .seconds(number("phase-seconds", 15)),
      noisyLead: .seconds(number("noisy-lead-seconds", 3)))
    GatewayReport(result: try await bench.run(), steadyRate: rate).print()
  default:
    let tenants = number("tenants", 10)
    let bench = E2EBench(
      mesh: mesh,
      documentation: flag("docs", pgdocs + ",/usr/share/doc/git-doc").split(separator: ",")
        .map(String.init),
      tenantCount: tenants, queryCount: number("queries", 200),
      concurrencies: flag("concurrency", "1,16,64").split(separator: ",").compactMap {
        Int($0)
      }, singleRequests: number("single-requests", 400), requests: number("requests", 2000),
      rounds: number("rounds", 3))
    E2EReport(result: try await bench.run(), tenants: tenants).print()
  }
} catch {
  say("failed: \(error)")
  mesh.stop(keepDatabase: false)
  exit(1)
}
// `--keep yes` leaves the database for a look at the plans (EXPLAIN) after the run.
mesh.stop(keepDatabase: flag("keep", "no") == "yes")
