import KPProtocol
import KPRPC
import KPTesting
import Testing

@Suite("Tenant isolation through kp-tenants", .serialized)
struct TenantIsolationTests {
  @Test("a call acting for tenant A gets NOT_FOUND for every id of tenant B, and B is unchanged")
  func otherTenantsIDs() async throws {
    try await TenantsHarness.with { harness in
      let a = try await harness.create("tenant-a")
      let b = try await harness.create("tenant-b")
      var asA = Metadata()
      asA.add(MetadataKey.tenant, a.id)
      let options = CallOptions(metadata: asA)

      #expect(try await harness.get(id: a.id, usage: true, metadata: asA).tenant?.id == a.id)
      await #expect(throws: RPCError(.notFound, "")) {
        _ = try await harness.get(id: b.id, usage: true, metadata: asA)
      }
      var bySlug = Kp_Tenants_V1_GetTenantRequest()
      bySlug.key = .slug("tenant-b")
      await #expect(throws: RPCError(.notFound, "")) {
        _ = try await harness.channel.unary(
          Kp_Tenants_V1_Tenants.getTenant, bySlug, options: options)
      }
      var suspend = Kp_Tenants_V1_SuspendTenantRequest()
      suspend.id = b.id
      await #expect(throws: RPCError(.notFound, "")) {
        _ = try await harness.channel.unary(
          Kp_Tenants_V1_Tenants.suspendTenant, suspend, options: options)
      }
      var resume = Kp_Tenants_V1_ResumeTenantRequest()
      resume.id = b.id
      await #expect(throws: RPCError(.notFound, "")) {
        _ = try await harness.channel.unary(
          Kp_Tenants_V1_Tenants.resumeTenant, resume, options: options)
      }
      var delete = Kp_Tenants_V1_DeleteTenantRequest()
      delete.id = b.id
      delete.confirmSlug = "tenant-b"
      await #expect(throws: RPCError(.notFound, "")) {
        _ = try await harness.channel.unary(
          Kp_Tenants_V1_Tenants.deleteTenant, delete, options: options)
      }
      // An id that does not exist answers exactly the same.
      await #expect(throws: RPCError(.notFound, "")) {
        _ = try await harness.get(id: "t" + String(repeating: "a", count: 26), metadata: asA)
      }

      let untouched = try await harness.get(id: b.id)
      #expect(untouched.tenant?.state == .active)
      #expect(try harness.tenantSchemas().contains("tenant_" + b.id))
    }
  }

  @Test("methods refuse callers not on their list")
  func callerPolicies() async throws {
    try await TenantsHarness.with { harness in
      let knowledge = try harness.channel(as: "knowledge")
      defer { knowledge.close() }
      var create = Kp_Tenants_V1_CreateTenantRequest()
      create.slug = "sneaky"
      create.displayName = "Sneaky"
      await #expect(throws: RPCError(.permissionDenied, "")) {
        _ = try await knowledge.unary(Kp_Tenants_V1_Tenants.createTenant, create)
      }
      let plans = try await knowledge.unary(
        Kp_Tenants_V1_Tenants.listPlans, Kp_Tenants_V1_ListPlansRequest())
      #expect(plans.plans.count == 3)

      let agent = try harness.channel(as: "agent")
      defer { agent.close() }
      await #expect(throws: RPCError(.permissionDenied, "")) {
        _ = try await agent.unary(Kp_Tenants_V1_Tenants.listPlans, Kp_Tenants_V1_ListPlansRequest())
      }
    }
  }
}
