import Foundation
import KPProtocol
import KPRPC
import KPTLS
import Testing

/// What the gateway puts into internal calls comes only from what it verified: suspended
/// tenants are refused, forged tenant headers and metadata are ignored, on the HTTPS API and
/// on the external RPC port.
@Suite("kp-gateway identity: suspension, forged tenants, external RPC", .serialized)
struct GatewayIdentityTests {
  @Test("a suspended tenant's tokens and API keys are refused on every request")
  func suspendedTenant() async throws {
    try await GatewayHarness.with { gateway in
      let (tenantID, owner) = try await gateway.makeTenant("acme")
      let key = try await gateway.request(
        "POST", "/v1/api-keys", token: owner, json: ["name": "k", "scopes": ["search"]])
      let secret = key.string("secret")
      #expect(try await gateway.request("GET", "/v1/search?q=a", token: owner).status == 200)
      #expect(try await gateway.request("GET", "/v1/search?q=a", token: secret).status == 200)

      // Suspended through the gateway: refused at once.
      let suspend = try await gateway.request(
        "PATCH", "/v1/tenants/acme", token: gateway.adminToken, json: ["status": "suspended"])
      #expect(suspend.status == 200)
      for credential in [owner, secret] {
        for path in ["/v1/search?q=a", "/v1/users", "/v1/stats"] {
          let refused = try await gateway.request("GET", path, token: credential)
          #expect(refused.status == 401, "\(path)")
          #expect(refused.errorMessage.contains("suspended"))
        }
      }
      _ = try await gateway.request(
        "PATCH", "/v1/tenants/acme", token: gateway.adminToken, json: ["status": "active"])
      #expect(try await gateway.request("GET", "/v1/search?q=a", token: owner).status == 200)

      // Suspended in the registry directly: refused once the short cache expires.
      let registry = try gateway.meshChannel(from: "cli", to: "tenants")
      defer { registry.close() }
      var request = Kp_Tenants_V1_SuspendTenantRequest()
      request.id = tenantID
      request.reason = "fraud review"
      _ = try await registry.unary(Kp_Tenants_V1_Tenants.suspendTenant, request)
      try await Task.sleep(for: .milliseconds(1200))
      #expect(try await gateway.request("GET", "/v1/search?q=a", token: owner).status == 401)
      #expect(try await gateway.request("GET", "/v1/search?q=a", token: secret).status == 401)
    }
  }

  @Test("forged tenant, user and group headers change nothing")
  func forgedHeaders() async throws {
    try await GatewayHarness.with { gateway in
      let (alphaID, alpha) = try await gateway.makeTenant("alpha")
      let (betaID, beta) = try await gateway.makeTenant("beta")
      _ = try await gateway.ingest(
        [GatewayHarness.document("b", title: "Beta only", text: "zebra migration notes")],
        token: beta)
      _ = try await gateway.ingest(
        [GatewayHarness.document("a", title: "Alpha only", text: "zebra crossing")],
        token: alpha)
      #expect(alphaID != betaID)

      let forged: [(String, String)] = [
        ("kp-tenant", betaID), ("X-Tenant-Id", betaID), ("kp-user", "u_someone"),
        ("kp-groups", "staff,admins"), ("X-Forwarded-For", "10.0.0.1"),
      ]
      let search = try await gateway.request(
        "GET", "/v1/search?q=zebra", token: alpha, headers: forged)
      #expect(search.status == 200)
      let titles = (search.json["results"] as? [[String: Any]] ?? []).compactMap {
        $0["title"] as? String
      }
      #expect(titles == ["Alpha only"])
      let users = try await gateway.request("GET", "/v1/users", token: alpha, headers: forged)
      #expect(users.items.allSatisfy { ($0["tenant_id"] as? String) == alphaID })

      // A token whose payload was edited to name another tenant fails its signature.
      let parts = alpha.split(separator: ".").map(String.init)
      let payload = try #require(Data(base64URL: parts[1]))
      var claims = try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
      claims["tid"] = betaID
      let edited = try JSONSerialization.data(withJSONObject: claims).base64URL
      let tampered = [parts[0], edited, parts[2]].joined(separator: ".")
      let refused = try await gateway.request("GET", "/v1/search?q=zebra", token: tampered)
      #expect(refused.status == 401)
    }
  }

  @Test("the external RPC port refuses a tenant over its rate with the wait in a trailer")
  func externalRPCRateLimit() async throws {
    try await GatewayHarness.with { gateway in
      let (_, small) = try await gateway.makeTenant("small", plan: "free")
      let channel = RPCChannel(
        target: RPCTarget(
          endpoints: [SocketAddress(host: "127.0.0.1", port: gateway.rpcPort)],
          expectedIdentity: nil, serverName: "localhost"),
        tls: try TLSContext(configuration: .externalClient(trustRoots: gateway.caPath)))
      defer { channel.close() }
      var options = CallOptions()
      options.metadata.add(MetadataKey.authorization, "Bearer " + small)
      var search = Kp_Knowledge_V1_SearchRequest()
      search.query = "anything"

      var answered = 0
      var refused: RPCError?
      for _ in 0..<40 where refused == nil {
        do {
          _ = try await channel.unary(Kp_Knowledge_V1_Knowledge.search, search, options: options)
          answered += 1
        } catch let error as RPCError where error.code == .resourceExhausted {
          refused = error
        }
      }
      let error = try #require(refused, "40 calls were answered")
      #expect(answered >= 10, "the free plan's burst is 10")
      let wait = error.trailers[MetadataKey.retryAfterSeconds].flatMap { Int($0) }
      #expect(wait.map { $0 >= 1 } == true, "\(error.trailers)")
    }
  }

  @Test("the external RPC port serves search with the bearer token in metadata")
  func externalRPC() async throws {
    try await GatewayHarness.with { gateway in
      let (_, alpha) = try await gateway.makeTenant("alpha")
      let (betaID, _) = try await gateway.makeTenant("beta")
      _ = try await gateway.ingest(
        [GatewayHarness.document("a", title: "Alpha", text: "quasar observations")],
        token: alpha)

      let channel = RPCChannel(
        target: RPCTarget(
          endpoints: [SocketAddress(host: "127.0.0.1", port: gateway.rpcPort)],
          expectedIdentity: nil, serverName: "localhost"),
        tls: try TLSContext(
          configuration: .externalClient(trustRoots: gateway.caPath)))
      defer { channel.close() }
      var search = Kp_Knowledge_V1_SearchRequest()
      search.query = "quasar"
      var options = CallOptions()
      options.metadata.add(MetadataKey.authorization, "Bearer " + alpha)
      options.metadata.add(MetadataKey.tenant, betaID)
      let hits = try await channel.unary(
        Kp_Knowledge_V1_Knowledge.search, search, options: options)
      #expect(hits.hits.map(\.title) == ["Alpha"])

      do {
        _ = try await channel.unary(Kp_Knowledge_V1_Knowledge.search, search)
        Issue.record("a call without a credential succeeded")
      } catch let error as RPCError {
        #expect(error.code == .unauthenticated)
      }
      var job = Kp_Ingest_V1_GetJobRequest()
      job.jobId = "j_missing"
      do {
        _ = try await channel.unary(Kp_Ingest_V1_Ingest.getJob, job, options: options)
        Issue.record("a missing job was found")
      } catch let error as RPCError {
        #expect(error.code == .notFound || error.code == .invalidArgument)
      }
    }
  }
}

extension Data {
  /// Decodes base64url without padding.
  init?(base64URL text: String) {
    var base64 = text.replacingOccurrences(of: "-", with: "+")
      .replacingOccurrences(of: "_", with: "/")
    base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
    self.init(base64Encoded: base64)
  }

  /// base64url without padding.
  var base64URL: String {
    base64EncodedString().replacingOccurrences(of: "+", with: "-")
      .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
  }
}
