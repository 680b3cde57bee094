import KPProtocol
import KPRPC
import KPTesting
import Testing

@Suite("Tenant placement on two clusters", .serialized)
struct TenantPlacementTests {
  @Test("new tenants go to the least loaded cluster; each lives only where placement says")
  func twoClusters() async throws {
    try await TenantsHarness.with(twoClusters: true) { harness in
      var placed: [String: [String]] = [:]
      for index in 0..<6 {
        let tenant = try await harness.create("spread-\(index)")
        placed[tenant.placement?.cluster ?? "", default: []].append(tenant.id)
      }
      #expect(placed["main"]?.count == 3)
      #expect(placed["second"]?.count == 3)
      #expect(
        try harness.tenantSchemas(cluster: 0)
          == Set(placed["main", default: []].map { "tenant_" + $0 }))
      #expect(
        try harness.tenantSchemas(cluster: 1)
          == Set(placed["second", default: []].map { "tenant_" + $0 }))

      // The registry lives on the first cluster only.
      #expect(
        try harness.value(
          "SELECT count(*) FROM pg_namespace WHERE nspname = 'kp_registry'", cluster: 1)
          == "0")

      // A tenant-scoped read finds each tenant's schema on its own cluster.
      for id in placed.values.joined() {
        let response = try await harness.get(id: id, usage: true)
        #expect(response.usage?.storedBytes == 0)
      }

      let pinned = try await harness.create("pinned", cluster: "second")
      #expect(pinned.placement?.cluster == "second")
      await #expect(throws: RPCError(.invalidArgument, "")) {
        _ = try await harness.create("nowhere", cluster: "third")
      }

      var delete = Kp_Tenants_V1_DeleteTenantRequest()
      delete.id = pinned.id
      delete.confirmSlug = "pinned"
      _ = try await harness.channel.unary(Kp_Tenants_V1_Tenants.deleteTenant, delete)
      #expect(try !harness.tenantSchemas(cluster: 1).contains("tenant_" + pinned.id))
      #expect(try harness.roleExists(pinned.id, cluster: 1) == false)
    }
  }
}
