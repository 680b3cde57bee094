import Foundation
import Testing

/// The tenant registry's routes through curl against the real mesh, with every error status
/// they can give.
@Suite("kp-gateway tenant routes", .serialized)
struct GatewayTenantRouteTests {
  @Test("the platform administrator creates, lists, reads, suspends, resumes and deletes")
  func tenantLifecycle() async throws {
    try await GatewayHarness.with { gateway in
      let admin = gateway.adminToken

      let created = try await gateway.request(
        "POST", "/v1/tenants", token: admin,
        json: ["slug": "acme", "name": "Acme", "plan": "team"])
      #expect(created.status == 201)
      #expect(created.string("slug") == "acme")
      #expect(created.string("status") == "active")
      #expect(created.string("plan") == "team")
      #expect(!created.string("id").isEmpty)
      #expect(created.headers["content-type"] == "application/json; charset=utf-8")
      #expect(!(created.headers["x-request-id"] ?? "").isEmpty)

      let duplicate = try await gateway.request(
        "POST", "/v1/tenants", token: admin,
        json: ["slug": "acme", "name": "Again", "plan": "team"])
      #expect(duplicate.status == 409)
      #expect(duplicate.errorCode == "ALREADY_EXISTS")
      let detail = duplicate.json["error"] as? [String: Any]
      #expect((detail?["request_id"] as? String)?.isEmpty == false)

      let missing = try await gateway.request(
        "POST", "/v1/tenants", token: admin, json: ["slug": "beta", "name": "Beta"])
      #expect(missing.status == 422)
      #expect(missing.errorMessage.contains("plan"))
      let wrongType = try await gateway.request(
        "POST", "/v1/tenants", token: admin, json: ["slug": 7, "name": "Beta", "plan": "team"])
      #expect(wrongType.status == 422)

      _ = try await gateway.request(
        "POST", "/v1/tenants", token: admin,
        json: ["slug": "beta", "name": "Beta", "plan": "free"])
      let firstPage = try await gateway.request("GET", "/v1/tenants?limit=1", token: admin)
      #expect(firstPage.status == 200)
      #expect(firstPage.items.count == 1)
      let next = firstPage.string("next_page_token")
      #expect(!next.isEmpty)
      let secondPage = try await gateway.request(
        "GET", "/v1/tenants?limit=1&page_token=\(next)", token: admin)
      #expect(secondPage.items.count == 1)
      #expect(
        secondPage.items.first?["slug"] as? String != firstPage.items.first?["slug"] as? String)
      let badLimit = try await gateway.request("GET", "/v1/tenants?limit=0", token: admin)
      #expect(badLimit.status == 400)
      #expect(badLimit.errorCode == "INVALID_ARGUMENT")

      let one = try await gateway.request("GET", "/v1/tenants/acme", token: admin)
      #expect(one.status == 200)
      let quotas = try #require(one.json["quotas"] as? [String: Any])
      #expect(quotas["requests_per_second"] as? Int == 50)
      #expect((one.json["usage"] as? [String: Any])?["documents"] as? Int == 0)
      #expect(try await gateway.request("GET", "/v1/tenants/nobody", token: admin).status == 404)

      let suspended = try await gateway.request(
        "PATCH", "/v1/tenants/acme", token: admin,
        json: ["status": "suspended", "reason": "unpaid invoice"])
      #expect(suspended.status == 200)
      #expect(suspended.string("status") == "suspended")
      #expect(suspended.string("suspended_reason") == "unpaid invoice")
      let resumed = try await gateway.request(
        "PATCH", "/v1/tenants/acme", token: admin, json: ["status": "active"])
      #expect(resumed.string("status") == "active")
      let badStatus = try await gateway.request(
        "PATCH", "/v1/tenants/acme", token: admin, json: ["status": "sleeping"])
      #expect(badStatus.status == 422)
      let planChange = try await gateway.request(
        "PATCH", "/v1/tenants/acme", token: admin, json: ["plan": "enterprise"])
      #expect(planChange.status == 200)
      #expect(planChange.string("plan") == "enterprise")
      let fetched = try await gateway.request("GET", "/v1/tenants/acme", token: admin)
      #expect(fetched.string("plan") == "enterprise")
      let unknownPlan = try await gateway.request(
        "PATCH", "/v1/tenants/acme", token: admin, json: ["plan": "platinum"])
      #expect(unknownPlan.status == 422)
      #expect(unknownPlan.errorMessage.contains("platinum"))
      #expect(
        try await gateway.request("GET", "/v1/tenants/acme", token: admin).string("plan")
          == "enterprise")

      #expect(try await gateway.request("DELETE", "/v1/tenants/beta", token: admin).status == 204)
      #expect(try await gateway.request("GET", "/v1/tenants/beta", token: admin).status == 404)
      #expect(try await gateway.request("DELETE", "/v1/tenants/beta", token: admin).status == 404)
    }
  }

  @Test("tenant routes refuse anyone but the platform administrator")
  func tenantRoutesNeedThePlatformAdministrator() async throws {
    try await GatewayHarness.with { gateway in
      let (_, owner) = try await gateway.makeTenant("acme")

      let noToken = try await gateway.request("GET", "/v1/tenants")
      #expect(noToken.status == 401)
      #expect(noToken.errorCode == "UNAUTHENTICATED")
      let garbage = try await gateway.request("GET", "/v1/tenants", token: "not.a.token")
      #expect(garbage.status == 401)
      let basic = try await gateway.request(
        "GET", "/v1/tenants", headers: [("Authorization", "Basic cm9vdDpyb290")])
      #expect(basic.status == 401)

      for (method, path) in [
        ("GET", "/v1/tenants"), ("GET", "/v1/tenants/acme"), ("DELETE", "/v1/tenants/acme"),
      ] {
        let refused = try await gateway.request(method, path, token: owner)
        #expect(refused.status == 403, "\(method) \(path)")
        #expect(refused.errorCode == "PERMISSION_DENIED")
      }
      let create = try await gateway.request(
        "POST", "/v1/tenants", token: owner, json: ["slug": "x", "name": "X", "plan": "free"])
      #expect(create.status == 403)

      let wrongMethod = try await gateway.request("PUT", "/v1/tenants/acme", token: owner)
      #expect(wrongMethod.status == 405)
      #expect(wrongMethod.errorCode == "METHOD_NOT_ALLOWED")
      let noRoute = try await gateway.request("GET", "/v1/nothing-here", token: owner)
      #expect(noRoute.status == 404)
    }
  }
}
