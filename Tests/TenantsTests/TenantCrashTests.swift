import Foundation
import KPDatabase
import KPProtocol
import KPRPC
import KPTesting
import Synchronization
import Testing

@Suite("Tenant creation under load and crashes", .serialized)
struct TenantCrashTests {
  @Test("50 tenants created at once: 50 complete tenants, each with its schema and role")
  func fiftyAtOnce() async throws {
    try await TenantsHarness.with { harness in
      let ids = try await withThrowingTaskGroup(of: String.self) { group in
        for index in 0..<50 {
          group.addTask { try await harness.create("tenant-\(index)").id }
        }
        return try await group.reduce(into: Set<String>()) { $0.insert($1) }
      }
      #expect(ids.count == 50)
      #expect(
        try harness.value("SELECT count(*) FROM kp_registry.tenants WHERE state = 'active'")
          == "50")
      #expect(try harness.tenantSchemas() == Set(ids.map { "tenant_" + $0 }))
      #expect(try ids.allSatisfy { try harness.roleExists($0) })
    }
  }

  @Test("kp-tenants killed in the middle of a create, then retried: one complete tenant")
  func killedMidCreate() async throws {
    try await TenantsHarness.with { harness in
      // Hold the ledger so the create stops inside its provisioning transaction, after the
      // registry row, role, schema and tables are made but before anything on the cluster
      // commits.
      let blocker = try PostgresConnection.connect(url: harness.registryURL)
      defer { blocker.close() }
      try blocker.execute("BEGIN; LOCK TABLE kp_cluster.tenant_schemas IN EXCLUSIVE MODE")

      let pending = Task { try await harness.create("crashy") }
      var waiting = false
      for _ in 0..<200 where !waiting {
        try await Task.sleep(for: .milliseconds(50))
        waiting =
          try harness.value(
            """
            SELECT count(*) FROM pg_stat_activity
            WHERE application_name = 'kp-tenants' AND wait_event_type = 'Lock'
            """) == "1"
      }
      #expect(waiting)
      let reserved = try harness.value(
        "SELECT id FROM kp_registry.tenants WHERE slug = 'crashy' AND state = 'provisioning'")
      #expect(reserved != nil)

      harness.kill()
      try blocker.execute("ROLLBACK")
      _ = try? await pending.value
      try await Task.sleep(for: .milliseconds(300))
      #expect(try harness.tenantSchemas().isEmpty)
      if let reserved { #expect(try harness.roleExists(reserved) == false) }

      try await harness.restart()
      let tenant = try await harness.create("crashy")
      #expect(tenant.state == .active)
      try Self.expectOnlyComplete(harness, slugs: ["crashy"])
    }
  }

  @Test("kills at assorted moments of creates, then retries, leave only complete tenants")
  func killedAtAssortedMoments() async throws {
    try await TenantsHarness.with { harness in
      let slugs = (0..<4).map { "victim-\($0)" }
      for (index, slug) in slugs.enumerated() {
        let pending = Task { try await harness.create(slug) }
        try await Task.sleep(for: .milliseconds(2 + 6 * index))
        harness.kill()
        _ = try? await pending.value
        try await harness.restart()
        let tenant = try await harness.create(slug)
        #expect(tenant.slug == slug)
        #expect(tenant.state == .active)
      }
      try Self.expectOnlyComplete(harness, slugs: slugs)
    }
  }

  /// Exactly one active registry row per slug, a schema, role and ledger row for each, and no
  /// schema or role beyond them.
  private static func expectOnlyComplete(_ harness: TenantsHarness, slugs: [String]) throws {
    let rows = try harness.query("SELECT id, slug, state FROM kp_registry.tenants ORDER BY slug")
    #expect(rows.map { $0["slug"] ?? "" } == slugs.sorted())
    #expect(rows.allSatisfy { $0["state"] == "active" })
    let ids = rows.compactMap { $0["id"] }
    #expect(try harness.tenantSchemas() == Set(ids.map { "tenant_" + $0 }))
    #expect(try ids.allSatisfy { try harness.roleExists($0) })
    let ledger = try harness.query("SELECT tenant_id FROM kp_cluster.tenant_schemas")
    #expect(Set(ledger.compactMap { $0[0] }) == Set(ids))
  }
}
