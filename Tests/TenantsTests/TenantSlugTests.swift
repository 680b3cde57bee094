import KPRPC
import KPTesting
import Testing

@Suite("Tenant slugs", .serialized)
struct TenantSlugTests {
  static let refused: [String] = [
    "select",
    "123abc",
    "pg_x",
    "a\"; DROP SCHEMA public CASCADE;--",
    "m\u{00FC}nchen",
    "mu\u{0308}nchen",
    "\u{0430}\u{0441}me-corp",
    String(repeating: "a", count: 41),
    "ab",
    "Acme",
    "admin",
    "api",
    "public",
    "pg-data",
    "acme_corp",
    "",
  ]

  @Test("refused slugs give INVALID_ARGUMENT and create nothing")
  func refusedSlugs() async throws {
    try await TenantsHarness.with { harness in
      for slug in Self.refused {
        do {
          _ = try await harness.create(slug)
          Issue.record("slug '\(slug)' was accepted")
        } catch let error as RPCError {
          #expect(error.code == .invalidArgument, "\(slug): \(error)")
        }
      }
      #expect(try harness.value("SELECT count(*) FROM kp_registry.tenants") == "0")
      #expect(try harness.tenantSchemas().isEmpty)
      #expect(try harness.value("SELECT count(*) FROM kp_cluster.tenant_schemas") == "0")
      #expect(
        try harness.value("SELECT count(*) FROM pg_namespace WHERE nspname = 'public'") == "1")
    }
  }

  @Test("NFC and NFD spellings get the same answer, and the limits are inclusive")
  func normalisationAndLimits() async throws {
    try await TenantsHarness.with { harness in
      let shortest = try await harness.create("abc")
      let longest = try await harness.create("a" + String(repeating: "b-9", count: 13))
      #expect(shortest.slug == "abc")
      #expect(longest.slug.count == 40)

      for spelling in ["m\u{00FC}nchen", "mu\u{0308}nchen"] {
        await #expect(throws: RPCError(.invalidArgument, "")) {
          _ = try await harness.create(spelling)
        }
      }
      // A decomposed display name is stored composed.
      let named = try await harness.create("muenchen", name: "Mu\u{0308}nchen GmbH")
      #expect(named.displayName.unicodeScalars.count == "M\u{00FC}nchen GmbH".unicodeScalars.count)
    }
  }
}
