// kp-bench-tenants: drives bench/tenants. Provisions tenants through a real kp-tenants process
// and, in the same run, the bare CREATE SCHEMA and tables on a direct connection; measures a
// tenant-scoped lookup with one and with every tenant present, one migration over every tenant,
// and the resident memory of the service's PostgreSQL backends. Prints a table, then JSON.
import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTLS
import KPTesting

#if canImport(Glibc)
  import Glibc
#endif

/// Reads `--name value` flags.
func flag(_ name: String, _ fallback: String) -> String {
  let arguments = CommandLine.arguments
  guard let index = arguments.firstIndex(of: "--" + name), index + 1 < arguments.count else {
    return fallback
  }
  return arguments[index + 1]
}

func percentile(_ samples: [Double], _ fraction: Double) -> Double {
  guard !samples.isEmpty else { return 0 }
  let sorted = samples.sorted()
  return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction + 0.5))]
}

func milliseconds(_ start: ContinuousClock.Instant) -> Double {
  let elapsed = start.duration(to: .now)
  return Double(elapsed.components.seconds) * 1000
    + Double(elapsed.components.attoseconds) / 1e15
}

func say(_ text: String) {
  FileHandle.standardError.write(Data("bench/tenants: \(text)\n".utf8))
}

/// Resident memory of a process, in KiB: total and anonymous (private) pages.
func residentKiB(_ pid: String) -> (total: Int, anonymous: Int) {
  guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else {
    return (0, 0)
  }
  func field(_ name: String) -> Int {
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") })
    else { return 0 }
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
  }
  return (field("VmRSS"), field("RssAnon"))
}

let serverURL = flag("database-url", "postgresql://postgres@127.0.0.1:55432/postgres")
let certificates = flag("certs-dir", ".kp/certs")
let tenantCount = Int(flag("tenants", "1000")) ?? 1000
let lookups = Int(flag("lookups", "2000")) ?? 2000
let latest = TenantMigrations.latestVersion
let staged = max(1, latest - 1)

TLSRuntime.ignoreSIGPIPE()
let database = "kp_bench_tenants"
let admin = try PostgresConnection.connect(url: serverURL, applicationName: "kp-bench")
try admin.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
try admin.execute("CREATE DATABASE \(database)")
let databaseURL = PostgresFixture.databaseURL(serverURL, database: database)

func startService(version: Int) async throws -> ServiceProcess {
  try await ServiceProcess.start(
    "kp-tenants",
    arguments: [
      "--certs-dir", certificates, "--listen-address", "127.0.0.1:0",
      "--metrics-address", "127.0.0.1:0", "--database-url", databaseURL,
      "--tenant-schema-version", "\(version)", "--log-level", "notice",
    ])
}

func makeChannel(_ port: Int) throws -> RPCChannel {
  let tls = try TLSContext(
    configuration: .meshClient(
      certificateChain: "\(certificates)/cli.pem", privateKey: "\(certificates)/cli.key",
      trustRoots: "\(certificates)/ca.pem"))
  var configuration = RPCClientConfiguration()
  configuration.defaultTimeout = .seconds(600)
  return RPCChannel(
    target: RPCTarget(
      endpoints: [SocketAddress(host: "127.0.0.1", port: port)],
      expectedIdentity: "spiffe://knowledgeplane/svc/tenants"),
    tls: tls, configuration: configuration)
}

func create(_ channel: RPCChannel, _ slug: String) async throws -> String {
  var request = Kp_Tenants_V1_CreateTenantRequest()
  request.slug = slug
  request.displayName = "Bench \(slug)"
  request.planId = "team"
  return try await channel.unary(Kp_Tenants_V1_Tenants.createTenant, request).tenant?.id ?? ""
}

func lookup(_ channel: RPCChannel, _ ids: [String], count: Int) async throws -> [Double] {
  var request = Kp_Tenants_V1_GetTenantRequest()
  request.includeUsage = true
  for id in ids {
    request.key = .id(id)
    _ = try await channel.unary(Kp_Tenants_V1_Tenants.getTenant, request)
  }
  var samples: [Double] = []
  for index in 0..<count {
    request.key = .id(ids[(index * 7919) % ids.count])
    let start = ContinuousClock.now
    _ = try await channel.unary(Kp_Tenants_V1_Tenants.getTenant, request)
    samples.append(milliseconds(start))
  }
  return samples
}

/// Runs `lookup` in `repeats` rounds; returns the median round's p50 and p99 (milliseconds).
func repeatedLookup(
  _ channel: RPCChannel, _ ids: [String], count: Int, repeats: Int = 3
) async throws -> (p50: Double, p99: Double) {
  var p50s: [Double] = []
  var p99s: [Double] = []
  for _ in 0..<repeats {
    let samples = try await lookup(channel, ids, count: count)
    p50s.append(percentile(samples, 0.5))
    p99s.append(percentile(samples, 0.99))
  }
  return (percentile(p50s, 0.5), percentile(p99s, 0.5))
}

// 1. One tenant: lookup latency with a single tenant schema present.
say("starting kp-tenants (tenant schema version \(staged) of \(latest))")
var service = try await startService(version: staged)
var channel = try makeChannel(service.port)
let first = try await create(channel, "bench-first")
say("lookups with 1 tenant schema")
let lookupOne = try await repeatedLookup(channel, [first], count: lookups)

// 2. Provision through the service, one at a time.
say("provisioning \(tenantCount) tenants through kp-tenants")
var ids = [first]
var provision: [Double] = []
for index in 1..<tenantCount {
  let start = ContinuousClock.now
  ids.append(try await create(channel, "bench-\(index)"))
  provision.append(milliseconds(start))
}

// 3. The peer: bare CREATE SCHEMA and the same tables, one transaction each, same database.
say("provisioning \(tenantCount) bare schemas with the same tables")
let bare = try PostgresConnection.connect(url: databaseURL, applicationName: "kp-bench-bare")
let tables = TenantMigrations.all.prefix(staged).map(\.sql).joined(separator: ";\n")
var bareSamples: [Double] = []
for index in 0..<tenantCount {
  let start = ContinuousClock.now
  try bare.execute(
    "BEGIN; CREATE SCHEMA bare_\(index); SET LOCAL search_path TO bare_\(index); \(tables); COMMIT")
  bareSamples.append(milliseconds(start))
}
for index in 0..<tenantCount { try bare.execute("DROP SCHEMA bare_\(index) CASCADE") }
bare.close()

// 4. Lookups spread over every tenant.
say("lookups with \(tenantCount) tenant schemas")
let lookupMany = try await repeatedLookup(channel, ids, count: lookups)

// 5. One new migration over every tenant, through the Migrate RPC of a service that knows it.
channel.close()
service.stop()
say("migrating \(tenantCount) tenants from version \(staged) to \(latest)")
service = try await startService(version: latest)
channel = try makeChannel(service.port)
var migrate = Kp_Tenants_V1_MigrateRequest()
migrate.concurrency = 4
let migrationStart = ContinuousClock.now
var summary = Kp_Tenants_V1_MigrateProgress()
for try await report in try channel.serverStreaming(Kp_Tenants_V1_Tenants.migrate, migrate) {
  summary = report
}
let migrationSeconds = milliseconds(migrationStart) / 1000

// 6. Touch every tenant through this service, then read its backends' memory.
_ = try await lookup(channel, ids, count: tenantCount)
let backends = try admin.query(
  "SELECT pid FROM pg_stat_activity WHERE application_name = 'kp-tenants' AND datname = $1",
  [database]
).compactMap { $0[0] }
let memory = backends.map(residentKiB)
let fresh = try PostgresConnection.connect(url: databaseURL, applicationName: "kp-bench-fresh")
try fresh.query("SELECT 1")
let freshMemory = residentKiB("\(fresh.backendProcessID ?? 0)")
fresh.close()

channel.close()
service.stop()
try admin.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
let leftover = try admin.query(
  "SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])",
  ["{" + ids.map { "kp_" + $0 }.joined(separator: ",") + "}"])
for row in leftover {
  if let role = row[0], SQLIdentifier.isValid(role) { try admin.execute("DROP ROLE \"\(role)\"") }
}
admin.close()

// Report.
let provisionP50 = percentile(provision, 0.5)
let provisionP99 = percentile(provision, 0.99)
let bareP50 = percentile(bareSamples, 0.5)
let bareP99 = percentile(bareSamples, 0.99)
let (oneP50, oneP99) = lookupOne
let (manyP50, manyP99) = lookupMany
let maxAnonymousMB = Double(memory.map(\.anonymous).max() ?? 0) / 1024
let maxTotalMB = Double(memory.map(\.total).max() ?? 0) / 1024
let sumAnonymousMB = Double(memory.map(\.anonymous).reduce(0, +)) / 1024
let freshAnonymousMB = Double(freshMemory.anonymous) / 1024

func row(_ name: String, _ value: String, _ peer: String) -> String {
  name.padding(toLength: 46, withPad: " ", startingAt: 0)
    + value.padding(toLength: 18, withPad: " ", startingAt: 0) + peer
}
func fixed(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

print(row("figure", "kp-tenants", "peer / floor"))
print(row("provision p50 (ms)", fixed(provisionP50), fixed(bareP50) + " (bare schema+tables)"))
print(row("provision p99 (ms)", fixed(provisionP99), fixed(bareP99) + " (bare schema+tables)"))
print(
  row("scoped lookup p50 (ms), 1 vs \(tenantCount) schemas", fixed(manyP50, 3), fixed(oneP50, 3)))
print(
  row("scoped lookup p99 (ms), 1 vs \(tenantCount) schemas", fixed(manyP99, 3), fixed(oneP99, 3)))
print(
  row(
    "migration v\(staged)->v\(latest), \(tenantCount) tenants (s)", fixed(migrationSeconds),
    "migrated \(summary.migratedTenants), failed \(summary.failedTenants)"))
print(
  row(
    "backend RssAnon max / sum (MB), \(backends.count) conns",
    fixed(maxAnonymousMB) + " / " + fixed(sumAnonymousMB), fixed(freshAnonymousMB) + " (fresh)"))
print(row("backend VmRSS max (MB, incl. shared buffers)", fixed(maxTotalMB), ""))

let ratio = oneP50 > 0 ? manyP50 / oneP50 : 0
let figures: [String: Double] = [
  "tenants": Double(tenantCount), "provision_p50_ms": provisionP50,
  "provision_p99_ms": provisionP99, "bare_schema_p50_ms": bareP50, "bare_schema_p99_ms": bareP99,
  "lookup_1_p50_ms": oneP50, "lookup_1_p99_ms": oneP99, "lookup_many_p50_ms": manyP50,
  "lookup_many_p99_ms": manyP99, "migration_seconds": migrationSeconds,
  "migrated_tenants": Double(summary.migratedTenants),
  "failed_tenants": Double(summary.failedTenants),
  "backend_connections": Double(backends.count), "backend_rss_anon_max_mb": maxAnonymousMB,
  "backend_rss_anon_sum_mb": sumAnonymousMB, "backend_vmrss_max_mb": maxTotalMB,
  "fresh_backend_rss_anon_mb": freshAnonymousMB,
]
let figureText = figures.keys.sorted().map { "\"\($0)\": \(fixed(figures[$0]!, 3))" }
  .joined(separator: ", ")
let targets = [
  "{\"name\": \"provision_p99_ms\", \"value\": \(fixed(provisionP99)), "
    + "\"peer\": \(fixed(bareP99)), \"goal\": \"< 100\", \"met\": \(provisionP99 < 100)}",
  "{\"name\": \"lookup_p50_ratio_\(tenantCount)_vs_1\", \"value\": \(fixed(ratio, 3)), "
    + "\"peer\": 1.0, \"goal\": \"<= 1.2\", \"met\": \(ratio <= 1.2)}",
  "{\"name\": \"migration_seconds\", \"value\": \(fixed(migrationSeconds)), \"peer\": null, "
    + "\"goal\": \"< 60\", \"met\": \(migrationSeconds < 60 && summary.failedTenants == 0)}",
]
print(
  "{\"bench\": \"tenants\", \"figures\": {\(figureText)}, \"targets\": ["
    + targets.joined(separator: ", ") + "]}")
