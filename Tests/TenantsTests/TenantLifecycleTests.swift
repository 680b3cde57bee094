import KPProtocol
import KPRPC
import KPTesting
import Testing

@Suite("Tenant lifecycle through kp-tenants", .serialized)
struct TenantLifecycleTests {
  @Test(
    "create, get, idempotent retry, duplicates, suspend, resume, change plan, list pages, plans")
  func lifecycle() async throws {
    try await TenantsHarness.with { harness in
      let acme = try await harness.create("acme")
      #expect(acme.state == .active)
      #expect(acme.planId == "team")
      #expect(acme.schemaVersion > 0)
      #expect(acme.placement?.schema == "tenant_" + acme.id)
      #expect(!acme.id.contains("acme"))

      let again = try await harness.create("acme")
      #expect(again.id == acme.id)
      await #expect(throws: RPCError(.alreadyExists, "")) {
        _ = try await harness.create("acme", name: "Someone Else")
      }
      await #expect(throws: RPCError(.alreadyExists, "")) {
        _ = try await harness.create("acme", plan: "free")
      }
      await #expect(throws: RPCError(.invalidArgument, "")) {
        _ = try await harness.create("globex", plan: "platinum")
      }

      let fetched = try await harness.get(id: acme.id, usage: true)
      #expect(fetched.tenant?.slug == "acme")
      #expect(fetched.effectiveQuotas?.requestsPerSecond == 50)
      #expect(fetched.usage?.documents == 0)

      var suspend = Kp_Tenants_V1_SuspendTenantRequest()
      suspend.id = acme.id
      suspend.reason = "unpaid invoice"
      let suspended = try await harness.channel.unary(
        Kp_Tenants_V1_Tenants.suspendTenant, suspend)
      #expect(suspended.tenant?.state == .suspended)
      #expect(suspended.tenant?.suspendedReason == "unpaid invoice")
      _ = try await harness.channel.unary(Kp_Tenants_V1_Tenants.suspendTenant, suspend)
      #expect(try await harness.get(id: acme.id).tenant?.state == .suspended)

      var resume = Kp_Tenants_V1_ResumeTenantRequest()
      resume.id = acme.id
      let resumed = try await harness.channel.unary(Kp_Tenants_V1_Tenants.resumeTenant, resume)
      #expect(resumed.tenant?.state == .active)

      var change = Kp_Tenants_V1_ChangePlanRequest()
      change.id = acme.id
      change.planId = "enterprise"
      let moved = try await harness.channel.unary(Kp_Tenants_V1_Tenants.changePlan, change)
      #expect(moved.tenant?.planId == "enterprise")
      #expect(try await harness.get(id: acme.id).effectiveQuotas?.requestsPerSecond == 500)
      change.planId = "platinum"
      await #expect(throws: RPCError(.invalidArgument, "")) {
        _ = try await harness.channel.unary(Kp_Tenants_V1_Tenants.changePlan, change)
      }
      #expect(try await harness.get(id: acme.id).tenant?.planId == "enterprise")
      change.id = "t" + String(repeating: "a", count: 26)
      change.planId = "free"
      await #expect(throws: RPCError(.notFound, "")) {
        _ = try await harness.channel.unary(Kp_Tenants_V1_Tenants.changePlan, change)
      }

      for slug in ["delta", "bravo", "echo", "charlie"] { _ = try await harness.create(slug) }
      var seen: [String] = []
      var request = Kp_Tenants_V1_ListTenantsRequest()
      request.pageSize = 2
      var pages = 0
      repeat {
        let page = try await harness.channel.unary(Kp_Tenants_V1_Tenants.listTenants, request)
        seen += page.tenants.map(\.slug)
        request.pageToken = page.nextPageToken
        pages += 1
      } while !request.pageToken.isEmpty && pages < 10
      #expect(seen == ["acme", "bravo", "charlie", "delta", "echo"])
      #expect(pages == 3)

      request.pageToken = "not-a-token"
      await #expect(throws: RPCError(.invalidArgument, "")) {
        _ = try await harness.channel.unary(Kp_Tenants_V1_Tenants.listTenants, request)
      }

      let plans = try await harness.channel.unary(
        Kp_Tenants_V1_Tenants.listPlans, Kp_Tenants_V1_ListPlansRequest())
      #expect(plans.plans.map(\.id) == ["free", "team", "enterprise"])
    }
  }

  @Test("delete leaves no table, role or row of the tenant; the registry keeps a tombstone")
  func deleteLeavesNothing() async throws {
    try await TenantsHarness.with { harness in
      let doomed = try await harness.create("doomed")
      let kept = try await harness.create("kept")
      var delete = Kp_Tenants_V1_DeleteTenantRequest()
      delete.id = doomed.id
      delete.confirmSlug = "kept"
      await #expect(throws: RPCError(.failedPrecondition, "")) {
        _ = try await harness.channel.unary(Kp_Tenants_V1_Tenants.deleteTenant, delete)
      }

      delete.confirmSlug = "doomed"
      _ = try await harness.channel.unary(Kp_Tenants_V1_Tenants.deleteTenant, delete)
      _ = try await harness.channel.unary(Kp_Tenants_V1_Tenants.deleteTenant, delete)

      #expect(try harness.tenantSchemas() == ["tenant_" + kept.id])
      #expect(
        try harness.value(
          "SELECT count(*) FROM pg_tables WHERE schemaname = $1", ["tenant_" + doomed.id]) == "0")
      #expect(try harness.roleExists(doomed.id) == false)
      #expect(try harness.roleExists(kept.id))
      #expect(
        try harness.value(
          "SELECT count(*) FROM kp_cluster.tenant_schemas WHERE tenant_id = $1", [doomed.id])
          == "0")
      let tombstone = try harness.query(
        "SELECT state, display_name, deleted_at IS NOT NULL AS gone FROM kp_registry.tenants "
          + "WHERE id = $1", [doomed.id])
      #expect(tombstone.first?["state"] == "deleted")
      #expect(tombstone.first?["display_name"] == "")
      #expect(tombstone.first?["gone"] == "t")

      await #expect(throws: RPCError(.notFound, "")) {
        _ = try await harness.get(id: doomed.id)
      }
      let reused = try await harness.create("doomed")
      #expect(reused.id != doomed.id)
    }
  }
}
