import Foundation
import Testing

/// Ingest, jobs, documents and search through curl against the real mesh, and every route
/// that takes an id answering 404 for another tenant's.
@Suite("kp-gateway documents, search, and cross-tenant ids", .serialized)
struct GatewayDocumentRouteTests {
  @Test("a batch over the content limit is 413 and names the limit")
  func oversizeBatch() async throws {
    try await GatewayHarness.with(gatewayArguments: ["--http-max-body-bytes", "8388608"]) {
      gateway in
      let (_, owner) = try await gateway.makeTenant("acme")
      let big = String(repeating: "word ", count: 340_000)
      let documents = [
        GatewayHarness.document("a", title: "One", text: big),
        GatewayHarness.document("b", title: "Two", text: big),
      ]
      let refused = try await gateway.request(
        "POST", "/v1/documents", token: owner, json: ["documents": documents],
        headers: [("Idempotency-Key", "too-big")])
      #expect(refused.status == 413)
      #expect(refused.errorCode == "PAYLOAD_TOO_LARGE")
      #expect(refused.errorMessage.contains("\(3 << 20)"))
      #expect(refused.headers["retry-after"] == nil)

      let one = try await gateway.request(
        "POST", "/v1/documents", token: owner, json: ["documents": Array(documents.prefix(1))],
        headers: [("Idempotency-Key", "big-enough")])
      #expect(one.status == 202)
    }
  }

  @Test("a batch is accepted, processed, searched, read and deleted")
  func documents() async throws {
    try await GatewayHarness.with { gateway in
      let (_, owner) = try await gateway.makeTenant("acme")
      let documents = [
        GatewayHarness.document("a", title: "Rocket manual", text: "How to fuel the rocket."),
        GatewayHarness.document("b", title: "Garden", text: "Water the tomatoes daily."),
      ]

      let submitted = try await gateway.request(
        "POST", "/v1/documents", token: owner, json: ["documents": documents],
        headers: [("Idempotency-Key", "batch-1")])
      #expect(submitted.status == 202)
      #expect(submitted.json["accepted"] as? Int == 2)
      #expect(submitted.json["duplicate"] as? Bool == false)
      let again = try await gateway.request(
        "POST", "/v1/documents", token: owner, json: ["documents": documents],
        headers: [("Idempotency-Key", "batch-1")])
      #expect(again.json["duplicate"] as? Bool == true)
      #expect(again.string("job_id") == submitted.string("job_id"))

      var job = CurlResponse(included: [])
      for _ in 0..<100 {
        job = try await gateway.request(
          "GET", "/v1/jobs/\(submitted.string("job_id"))", token: owner)
        if job.string("state") == "succeeded" { break }
        try await Task.sleep(for: .milliseconds(100))
      }
      #expect(job.string("state") == "succeeded")
      #expect(job.json["stored"] as? Int == 2)

      let search = try await gateway.request("GET", "/v1/search?q=rocket&limit=5", token: owner)
      #expect(search.status == 200)
      #expect(search.json["total"] as? Int == 1)
      let hit = try #require((search.json["results"] as? [[String: Any]])?.first)
      #expect(hit["title"] as? String == "Rocket manual")
      #expect((hit["snippet"] as? String ?? "").contains("rocket"))
      let documentID = try #require(hit["document_id"] as? String)
      let filtered = try await gateway.request(
        "GET", "/v1/search?q=rocket&source=tickets", token: owner)
      #expect(filtered.json["total"] as? Int == 0)
      let paged = try await gateway.request("GET", "/v1/search?q=rocket&offset=1", token: owner)
      #expect((paged.json["results"] as? [Any])?.isEmpty == true)

      let document = try await gateway.request("GET", "/v1/documents/\(documentID)", token: owner)
      #expect(document.status == 200)
      #expect(document.string("external_id") == "a")
      #expect(document.string("text").contains("fuel the rocket"))
      #expect((document.json["acl"] as? [String: Any])?["tenant_wide"] as? Bool == true)

      let stats = try await gateway.request("GET", "/v1/stats", token: owner)
      #expect(stats.json["documents"] as? Int == 2)

      #expect(
        try await gateway.request("DELETE", "/v1/documents/\(documentID)", token: owner).status
          == 204)
      #expect(
        try await gateway.request("GET", "/v1/documents/\(documentID)", token: owner).status
          == 404)
      #expect(
        try await gateway.request("DELETE", "/v1/documents/\(documentID)", token: owner).status
          == 404)
    }
  }

  @Test("ingest and search refuse bad requests with 400 and 422")
  func badRequests() async throws {
    try await GatewayHarness.with { gateway in
      let (_, owner) = try await gateway.makeTenant("acme")
      let one = ["documents": [GatewayHarness.document("a", title: "A", text: "a")]]

      let noKey = try await gateway.request("POST", "/v1/documents", token: owner, json: one)
      #expect(noKey.status == 400)
      #expect(noKey.errorMessage.contains("Idempotency-Key"))
      let longKey = try await gateway.request(
        "POST", "/v1/documents", token: owner, json: one,
        headers: [("Idempotency-Key", String(repeating: "k", count: 129))])
      #expect(longKey.status == 400)
      let empty = try await gateway.request(
        "POST", "/v1/documents", token: owner, json: ["documents": []],
        headers: [("Idempotency-Key", "k")])
      #expect(empty.status == 422)
      let noContent = try await gateway.request(
        "POST", "/v1/documents", token: owner,
        json: [
          "documents": [
            [
              "source": "wiki", "external_id": "a", "title": "A", "content_type": "text/plain",
              "acl": ["tenant_wide": true],
            ]
          ]
        ], headers: [("Idempotency-Key", "k")])
      #expect(noContent.status == 422)
      #expect(noContent.errorMessage.contains("documents[0]"))

      #expect(try await gateway.request("GET", "/v1/search", token: owner).status == 400)
      #expect(
        try await gateway.request("GET", "/v1/search?q=a&limit=0", token: owner).status == 400)
      #expect(
        try await gateway.request("GET", "/v1/search?q=a&limit=101", token: owner).status == 400)
      #expect(
        try await gateway.request("GET", "/v1/search?q=a&offset=-1", token: owner).status == 400)
      let viewer = try await gateway.makeUser(
        tenant: "acme", email: "vi@acme.example", role: "viewer", by: owner)
      let viewerIngest = try await gateway.request(
        "POST", "/v1/documents", token: viewer.token, json: one,
        headers: [("Idempotency-Key", "k")])
      #expect(viewerIngest.status == 403)
      #expect(try await gateway.request("GET", "/v1/search?q=a", token: viewer.token).status == 200)
    }
  }

  @Test("every route that takes an id answers 404 for another tenant's id")
  func crossTenantIDs() async throws {
    try await GatewayHarness.with { gateway in
      let (_, alpha) = try await gateway.makeTenant("alpha")
      let (_, beta) = try await gateway.makeTenant("beta")
      let job = try await gateway.ingest(
        [GatewayHarness.document("secret", title: "Alpha plans", text: "alpha secret plans")],
        token: alpha)
      #expect(job.string("state") == "succeeded")
      let hit = try await gateway.request("GET", "/v1/search?q=plans", token: alpha)
      let documentID = try #require(
        (hit.json["results"] as? [[String: Any]])?.first?["document_id"] as? String)
      let user = try await gateway.makeUser(
        tenant: "alpha", email: "al@alpha.example", role: "member", by: alpha)
      let key = try await gateway.request(
        "POST", "/v1/api-keys", token: alpha, json: ["name": "k", "scopes": ["search"]])
      let keyID = key.string("id")

      let attempts: [(String, String, [String: Any]?)] = [
        ("GET", "/v1/documents/\(documentID)", nil),
        ("DELETE", "/v1/documents/\(documentID)", nil),
        ("GET", "/v1/jobs/\(job.string("job_id"))", nil),
        ("GET", "/v1/users/\(user.id)", nil),
        ("PATCH", "/v1/users/\(user.id)", ["role": "admin"]),
        ("DELETE", "/v1/users/\(user.id)", nil),
        ("DELETE", "/v1/api-keys/\(keyID)", nil),
        (
          "POST", "/v1/tenants/alpha/users",
          ["email": "mole@beta.example", "password": "a long password", "role": "owner"]
        ),
      ]
      for (method, path, body) in attempts {
        let response =
          if let body {
            try await gateway.request(method, path, token: beta, json: body)
          } else {
            try await gateway.request(method, path, token: beta)
          }
        #expect(response.status == 404, "\(method) \(path): \(response.text)")
        #expect(response.errorCode == "NOT_FOUND")
      }
      let betaSearch = try await gateway.request("GET", "/v1/search?q=plans", token: beta)
      #expect(betaSearch.json["total"] as? Int == 0)

      #expect(
        try await gateway.request("GET", "/v1/documents/\(documentID)", token: alpha).status
          == 200)
      #expect(try await gateway.request("GET", "/v1/users/\(user.id)", token: alpha).status == 200)
      let keys = try await gateway.request("GET", "/v1/api-keys", token: alpha)
      #expect(keys.items.first?["revoked"] as? Bool == false)
    }
  }
}
