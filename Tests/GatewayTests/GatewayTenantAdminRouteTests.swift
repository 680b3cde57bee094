import Foundation
import Testing

/// Users, sessions, API keys and the audit log through curl against the real mesh.
@Suite("kp-gateway users, sessions, API keys and audit", .serialized)
struct GatewayTenantAdminRouteTests {
  @Test("a tenant admin manages users; members may not")
  func users() async throws {
    try await GatewayHarness.with { gateway in
      let (tenantID, owner) = try await gateway.makeTenant("acme")

      let created = try await gateway.request(
        "POST", "/v1/tenants/acme/users", token: owner,
        json: [
          "email": "ada@acme.example", "password": GatewayHarness.userPassword,
          "role": "member", "groups": ["eng"], "name": "Ada",
        ])
      #expect(created.status == 201)
      #expect(created.string("tenant_id") == tenantID)
      #expect(created.string("role") == "member")
      #expect(created.json["groups"] as? [String] == ["eng"])
      #expect(created.json["password"] == nil && created.json["password_hash"] == nil)
      #expect(!created.text.contains(GatewayHarness.userPassword))
      let userID = created.string("id")

      let duplicate = try await gateway.request(
        "POST", "/v1/tenants/acme/users", token: owner,
        json: ["email": "ada@acme.example", "password": "another password", "role": "member"])
      #expect(duplicate.status == 409)
      let badRole = try await gateway.request(
        "POST", "/v1/tenants/acme/users", token: owner,
        json: ["email": "bob@acme.example", "password": "another password", "role": "king"])
      #expect(badRole.status == 422)

      let list = try await gateway.request("GET", "/v1/users", token: owner)
      #expect(list.status == 200)
      #expect(
        Set(list.items.compactMap { $0["email"] as? String })
          == ["owner@acme.example", "ada@acme.example"])
      for token in ["garbage", "u_zz", "u_"] {
        let badPage = try await gateway.request(
          "GET", "/v1/users?page_token=\(token)", token: owner)
        #expect(badPage.status == 400, "page_token \(token)")
      }
      let one = try await gateway.request("GET", "/v1/users/\(userID)", token: owner)
      #expect(one.string("email") == "ada@acme.example")

      let patched = try await gateway.request(
        "PATCH", "/v1/users/\(userID)", token: owner,
        json: ["role": "editor", "groups": ["eng", "ops"], "disabled": false])
      #expect(patched.status == 200)
      #expect(patched.string("role") == "editor")
      #expect(patched.json["groups"] as? [String] == ["eng", "ops"])
      let emptyPatch = try await gateway.request(
        "PATCH", "/v1/users/\(userID)", token: owner, json: [:])
      #expect(emptyPatch.status == 422)

      let member = try await gateway.makeUser(
        tenant: "acme", email: "cy@acme.example", role: "member", by: owner)
      #expect(try await gateway.request("GET", "/v1/users", token: member.token).status == 403)
      let memberCreate = try await gateway.request(
        "POST", "/v1/tenants/acme/users", token: member.token,
        json: ["email": "eve@acme.example", "password": "another password", "role": "owner"])
      #expect(memberCreate.status == 403)
      let adminOnUsers = try await gateway.request(
        "GET", "/v1/users", token: gateway.adminToken)
      #expect(adminOnUsers.status == 403)

      #expect(
        try await gateway.request("DELETE", "/v1/users/\(userID)", token: owner).status == 204)
      #expect(try await gateway.request("GET", "/v1/users/\(userID)", token: owner).status == 404)
    }
  }

  @Test("sign-in throttling is 429 with the wait auth sends in its trailer as Retry-After")
  func signInThrottling() async throws {
    try await GatewayHarness.with { gateway in
      _ = try await gateway.makeTenant("acme")
      let attempt = ["tenant": "acme", "email": "owner@acme.example", "password": "wrong password"]
      var statuses: [Int] = []
      var throttled: CurlResponse?
      for _ in 0..<8 where throttled == nil {
        let response = try await gateway.request("POST", "/v1/auth/login", json: attempt)
        statuses.append(response.status)
        if response.status == 429 { throttled = response }
      }
      let refused = try #require(throttled, "no 429 after \(statuses)")
      #expect(statuses.dropLast().allSatisfy { $0 == 401 }, "\(statuses)")
      #expect(refused.errorCode == "RESOURCE_EXHAUSTED")
      let seconds = try #require(Int(refused.headers["retry-after"] ?? ""))
      #expect((1...30).contains(seconds))
      #expect(refused.errorMessage.contains("try again in \(seconds) second"))
    }
  }

  @Test("sign-in, refresh rotation, logout, and the audit log")
  func sessionsAndAudit() async throws {
    try await GatewayHarness.with { gateway in
      _ = try await gateway.makeTenant("acme")

      let wrong = try await gateway.request(
        "POST", "/v1/auth/login",
        json: ["tenant": "acme", "email": "owner@acme.example", "password": "wrong password"])
      #expect(wrong.status == 401)
      let login = try await gateway.request(
        "POST", "/v1/auth/login",
        json: [
          "tenant": "acme", "email": "owner@acme.example", "password": GatewayHarness.userPassword,
        ])
      #expect(login.status == 200)
      #expect(login.string("token_type") == "Bearer")
      #expect((login.json["expires_in"] as? Int ?? 0) > 800)
      let refreshToken = login.string("refresh_token")
      #expect(refreshToken.hasPrefix("kpr_"))

      let refreshed = try await gateway.request(
        "POST", "/v1/auth/refresh", json: ["refresh_token": refreshToken])
      #expect(refreshed.status == 200)
      let rotated = refreshed.string("refresh_token")
      #expect(rotated != refreshToken)
      let reused = try await gateway.request(
        "POST", "/v1/auth/refresh", json: ["refresh_token": refreshToken])
      #expect(reused.status == 401)

      // Reusing a rotated-away token revokes the whole family, the rotated one included.
      let family = try await gateway.request(
        "POST", "/v1/auth/refresh", json: ["refresh_token": rotated])
      #expect(family.status == 401)

      let session = try await gateway.request(
        "POST", "/v1/auth/login",
        json: [
          "tenant": "acme", "email": "owner@acme.example", "password": GatewayHarness.userPassword,
        ])
      let access = session.string("access_token")
      let sessionRefresh = session.string("refresh_token")
      let noBearer = try await gateway.request(
        "POST", "/v1/auth/logout", json: ["refresh_token": sessionRefresh])
      #expect(noBearer.status == 401)
      let logout = try await gateway.request(
        "POST", "/v1/auth/logout", token: access, json: ["refresh_token": sessionRefresh])
      #expect(logout.status == 204)
      let afterLogout = try await gateway.request(
        "POST", "/v1/auth/refresh", json: ["refresh_token": sessionRefresh])
      #expect(afterLogout.status == 401)

      let audit = try await gateway.request("GET", "/v1/audit?limit=50", token: access)
      #expect(audit.status == 200)
      let actions = audit.items.compactMap { $0["action"] as? String }
      #expect(actions.contains("login"))
      #expect(actions.contains("logout"))
      #expect(audit.items.contains { ($0["source"] as? String) == "127.0.0.1" })
      for token in ["-1", "0", "x"] {
        let badPage = try await gateway.request(
          "GET", "/v1/audit?page_token=\(token)", token: access)
        #expect(badPage.status == 400, "page_token \(token)")
      }
    }
  }

  @Test("API keys: the secret once, scopes enforced, revocation takes effect")
  func apiKeys() async throws {
    try await GatewayHarness.with { gateway in
      let (_, owner) = try await gateway.makeTenant("acme")

      let created = try await gateway.request(
        "POST", "/v1/api-keys", token: owner,
        json: ["name": "search only", "scopes": ["search"], "expires_at": "2030-01-01T00:00:00Z"])
      #expect(created.status == 201)
      let secret = created.string("secret")
      #expect(secret.hasPrefix("kpk_"))
      #expect(created.string("expires_at") == "2030-01-01T00:00:00Z")
      let keyID = created.string("id")

      let listed = try await gateway.request("GET", "/v1/api-keys", token: owner)
      #expect(listed.status == 200)
      #expect(listed.items.map { $0["id"] as? String } == [keyID])
      #expect(!listed.text.contains(secret))

      let badScope = try await gateway.request(
        "POST", "/v1/api-keys", token: owner, json: ["name": "x", "scopes": ["root"]])
      #expect(badScope.status == 422)
      let badTime = try await gateway.request(
        "POST", "/v1/api-keys", token: owner,
        json: ["name": "x", "scopes": ["search"], "expires_at": "tomorrow"])
      #expect(badTime.status == 422)

      #expect(try await gateway.request("GET", "/v1/search?q=x", token: secret).status == 200)
      let ingest = try await gateway.request(
        "POST", "/v1/documents", token: secret,
        json: ["documents": [GatewayHarness.document("a", title: "A", text: "a")]],
        headers: [("Idempotency-Key", "k1")])
      #expect(ingest.status == 403)
      #expect(try await gateway.request("GET", "/v1/api-keys", token: secret).status == 403)

      #expect(
        try await gateway.request("DELETE", "/v1/api-keys/\(keyID)", token: owner).status == 204)
      let revoked = try await gateway.request("GET", "/v1/search?q=x", token: secret)
      #expect(revoked.status == 401)
      #expect(
        try await gateway.request("DELETE", "/v1/api-keys/k_nope", token: owner).status == 404)
    }
  }
}
