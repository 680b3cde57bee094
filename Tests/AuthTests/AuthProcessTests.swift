import Foundation
import KPProtocol
import KPRPC
import KPTLS
import KPTesting
import Testing

@testable import Auth

/// kp-auth and kp-tenants as real processes on one database: auth learns about tenants from the
/// registry service over mutual TLS.
@Suite("kp-auth with kp-tenants, as processes", .serialized)
struct AuthProcessTests {
  @Test("a tenant made by kp-tenants gets users; its suspension is seen by kp-auth")
  func registryServiceAndSuspension() async throws {
    TLSRuntime.ignoreSIGPIPE()
    let mesh = try TestMesh()
    let hasher = try PasswordHasher(
      parameters: .init(memoryKiB: 1024, iterations: 1, parallelism: 1))
    let adminHash = try await hasher.hash("platform-admin-password")
    try await PostgresFixture.withDatabase { url in
      let tenantsProcess = try await ServiceProcess.start(
        "kp-tenants",
        arguments: [
          "--certs-dir", try mesh.certificatesDirectory(for: "tenants"),
          "--listen-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
          "--database-clusters", "main=\(url)",
        ])
      defer { tenantsProcess.stop() }
      let keyFile = FileManager.default.temporaryDirectory
        .appendingPathComponent("kp-auth-kek-\(UUID().uuidString)").path
      defer { try? FileManager.default.removeItem(atPath: keyFile) }
      let authProcess = try await ServiceProcess.start(
        "kp-auth",
        arguments: [
          "--certs-dir", try mesh.certificatesDirectory(for: "auth"),
          "--listen-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
          "--database-clusters", "main=\(url)",
          "--tenants-address", "127.0.0.1:\(tenantsProcess.port)", "--tenant-cache-seconds", "0",
          "--password-memory-kib", "1024", "--password-iterations", "1",
          "--key-encryption-key-file", keyFile, "--platform-admin-email", "root@kp.example",
          "--platform-admin-password-hash", adminHash,
        ])
      defer { authProcess.stop() }
      let tenants = try mesh.channel(from: "cli", to: "tenants", ports: [tenantsProcess.port])
      let auth = try mesh.channel(from: "gateway", to: "auth", ports: [authProcess.port])
      defer {
        tenants.close()
        auth.close()
      }

      var create = Kp_Tenants_V1_CreateTenantRequest()
      create.slug = "acme"
      create.displayName = "Acme"
      create.planId = "team"
      let tenant = try #require(
        try await tenants.unary(Kp_Tenants_V1_Tenants.createTenant, create).tenant)

      func login(_ slug: String, _ email: String, _ password: String) async throws
        -> Kp_Auth_V1_LoginResponse
      {
        var request = Kp_Auth_V1_LoginRequest()
        request.tenantSlug = slug
        request.email = email
        request.password = password
        return try await auth.unary(Kp_Auth_V1_Auth.login, request)
      }
      func bearer(_ token: String) -> CallOptions {
        var options = CallOptions()
        options.metadata.add(MetadataKey.authorization, "Bearer " + token)
        return options
      }

      let admin = try #require(
        try await login("", "ROOT@kp.example", "platform-admin-password").tokens?.accessToken)
      var createUser = Kp_Auth_V1_CreateUserRequest()
      createUser.tenantId = tenant.id
      createUser.email = "owner@acme.example"
      createUser.role = .owner
      createUser.password = "correct horse battery"
      _ = try await auth.unary(Kp_Auth_V1_Auth.createUser, createUser, options: bearer(admin))
      let owner = try #require(
        try await login("acme", "owner@acme.example", "correct horse battery").tokens)

      var verify = Kp_Auth_V1_VerifyTokenRequest()
      verify.token = owner.accessToken
      let principal = try await auth.unary(Kp_Auth_V1_Auth.verifyToken, verify).principal
      #expect(principal?.tenantId == tenant.id)
      #expect(principal?.role == .owner)

      var suspend = Kp_Tenants_V1_SuspendTenantRequest()
      suspend.id = tenant.id
      suspend.reason = "unpaid"
      _ = try await tenants.unary(Kp_Tenants_V1_Tenants.suspendTenant, suspend)
      do {
        _ = try await auth.unary(Kp_Auth_V1_Auth.verifyToken, verify)
        Issue.record("a suspended tenant's token was accepted")
      } catch let error as RPCError {
        #expect(error.code == .unauthenticated)
        #expect(error.message.contains("suspended"))
      }
      var refresh = Kp_Auth_V1_RefreshRequest()
      refresh.refreshToken = owner.refreshToken
      await #expect(throws: RPCError(.unauthenticated, "")) {
        _ = try await auth.unary(Kp_Auth_V1_Auth.refresh, refresh)
      }

      var resume = Kp_Tenants_V1_ResumeTenantRequest()
      resume.id = tenant.id
      _ = try await tenants.unary(Kp_Tenants_V1_Tenants.resumeTenant, resume)
      _ = try await auth.unary(Kp_Auth_V1_Auth.verifyToken, verify)
      _ = try await auth.unary(Kp_Auth_V1_Auth.refresh, refresh)

      // SIGTERM drains and exits cleanly.
      authProcess.kill(SIGTERM)
      #expect(await authProcess.waitForExit(timeout: .seconds(30)) == 0)
      #expect(!authProcess.log.contains("correct horse"))
      #expect(!authProcess.log.contains(owner.refreshToken))

      // Deleting the tenant removes its schema and role with it.
      var delete = Kp_Tenants_V1_DeleteTenantRequest()
      delete.id = tenant.id
      delete.confirmSlug = "acme"
      _ = try await tenants.unary(Kp_Tenants_V1_Tenants.deleteTenant, delete)
    }
  }
}
