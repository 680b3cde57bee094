import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTesting
import Testing

@Suite("Tenant migrations across every tenant", .serialized)
struct TenantMigrationTests {
  private static let latest = TenantMigrations.latestVersion

  @Test("'kp-tenants migrate' killed part-way resumes: every tenant at the latest version once")
  func migrateCommandResumes() async throws {
    try #require(Self.latest >= 2)
    let staged = ["--tenant-schema-version", "\(Self.latest - 1)"]
    try await TenantsHarness.with(arguments: staged) { harness in
      var ids: [String] = []
      for index in 0..<16 { ids.append(try await harness.create("staged-\(index)").id) }
      #expect(
        try harness.value("SELECT DISTINCT schema_version FROM kp_cluster.tenant_schemas")
          == "\(Self.latest - 1)")
      harness.kill()

      let interrupted = try await harness.migrateProcess(arguments: ["--migrate-concurrency", "1"])
      for _ in 0..<400 where !interrupted.log.contains("\"message\":\"tenant migrated\"") {
        try await Task.sleep(for: .milliseconds(10))
      }
      interrupted.kill(SIGKILL)
      let partial = try harness.value(
        "SELECT count(*) FROM kp_cluster.tenant_schemas WHERE schema_version = $1",
        ["\(Self.latest)"])
      #expect(Int(partial ?? "") ?? 0 >= 1)

      let resumed = try await harness.migrateProcess()
      #expect(await resumed.waitForExit() == 0, "\(resumed.log)")
      #expect(
        try harness.value("SELECT DISTINCT schema_version FROM kp_cluster.tenant_schemas")
          == "\(Self.latest)")
      #expect(
        try harness.value("SELECT DISTINCT schema_version FROM kp_registry.tenants")
          == "\(Self.latest)")
      // The newest migration's tables exist once in every tenant schema.
      let newest = TenantMigrations.all[Self.latest - 1]
      let table = try #require(
        newest.sql.split(separator: "CREATE TABLE ").dropFirst().first?.split(separator: " ")
          .first.map(String.init))
      #expect(
        try harness.value("SELECT count(*) FROM pg_tables WHERE tablename = $1", [table])
          == "\(ids.count)")
    }
  }

  @Test("the Migrate RPC streams progress for each tenant and a final summary")
  func migrateRPCStreams() async throws {
    try #require(Self.latest >= 2)
    let staged = ["--tenant-schema-version", "\(Self.latest - 1)"]
    try await TenantsHarness.with(arguments: staged) { harness in
      for index in 0..<5 { _ = try await harness.create("rpc-\(index)") }
      try await harness.restart(arguments: [])

      var request = Kp_Tenants_V1_MigrateRequest()
      request.concurrency = 2
      var reports: [Kp_Tenants_V1_MigrateProgress] = []
      for try await report in try harness.channel.serverStreaming(
        Kp_Tenants_V1_Tenants.migrate, request)
      {
        reports.append(report)
      }
      #expect(reports.count == 6)
      #expect(reports.last?.done == true)
      #expect(reports.last?.migratedTenants == 5)
      #expect(reports.dropLast().allSatisfy { $0.schemaVersion == UInt32(Self.latest) })
      let tenant = try await harness.create("rpc-new")
      #expect(tenant.schemaVersion == UInt32(Self.latest))
    }
  }
}
