import Foundation
import KPProtocol
import KPRPC
import KPTokens
import Testing

@testable import Auth

/// kp-auth end to end: real PostgreSQL, the service over mutual TLS on loopback.
@Suite("kp-auth over mutual TLS", .serialized)
struct AuthServiceTests {
  private func expectError(
    _ code: RPCError.Code, containing text: String? = nil, _ body: () async throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
  ) async {
    do {
      try await body()
      Issue.record("expected \(code), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as RPCError {
      #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
      if let text {
        #expect(error.message.contains(text), "\(error)", sourceLocation: sourceLocation)
      }
    } catch {
      Issue.record("expected RPCError \(code), got \(error)", sourceLocation: sourceLocation)
    }
  }

  @Test("login gives tokens that verify offline with the published keys")
  func loginAndOfflineVerification() async throws {
    try await AuthHarness.with { harness in
      let (tenantID, _) = try await harness.tenantWithOwner("acme")
      try await harness.createUser(
        as: try await harness.platformToken(), tenantID: tenantID, email: "Ada@Example.com",
        role: .member)
      let login = try await harness.login("acme", "  ada@EXAMPLE.com ", "correct horse battery")
      let token = try #require(login.tokens?.accessToken)
      #expect(login.user?.email == "Ada@Example.com")
      #expect(login.tokens?.refreshToken.hasPrefix("kpr_\(tenantID)_") == true)

      // Offline: a verifier built from ListSigningKeys alone.
      let published = try await harness.channel.unary(
        Kp_Auth_V1_Auth.listSigningKeys, Kp_Auth_V1_ListSigningKeysRequest())
      var keys = SigningKeySet()
      for key in published.keys {
        #expect(key.algorithm == "EdDSA")
        keys.insert(
          SigningKeySet.Key(
            keyID: key.keyId, publicKey: try Ed25519PublicKey(derRepresentation: key.publicKey)))
      }
      let claims = try AccessTokenVerifier(keys: keys).verify(token, expectedTenant: tenantID)
      #expect(claims.role == "member")
      #expect(claims.userID == login.user?.id)
      #expect(claims.expiresAt.timeIntervalSince(claims.issuedAt) == 900)
      #expect(throws: TokenError.self) {
        try AccessTokenVerifier(keys: keys).verify(token, expectedTenant: "tother")
      }

      // VerifyToken says the same.
      var verify = Kp_Auth_V1_VerifyTokenRequest()
      verify.token = "Bearer " + token
      let principal = try await harness.channel.unary(Kp_Auth_V1_Auth.verifyToken, verify)
        .principal
      #expect(principal?.tenantId == tenantID)
      #expect(principal?.role == .member)
    }
  }

  @Test("emails are unique within a tenant without regard to case")
  func emailCaseInsensitive() async throws {
    try await AuthHarness.with { harness in
      let (tenantID, owner) = try await harness.tenantWithOwner("acme")
      try await harness.createUser(as: owner, email: "Ada@Example.com", role: .member)
      await expectError(.alreadyExists) {
        try await harness.createUser(as: owner, email: "ADA@example.COM", role: .viewer)
      }
      // The same email in another tenant is another user.
      let other = try await harness.makeTenant("globex")
      try await harness.createUser(
        as: try await harness.platformToken(), tenantID: other, email: "ada@example.com",
        role: .admin)
      var list = Kp_Auth_V1_ListUsersRequest()
      list.tenantId = tenantID
      let users = try await harness.channel.unary(
        Kp_Auth_V1_Auth.listUsers, list, options: harness.bearer(owner)
      ).users
      #expect(users.map(\.email).sorted() == ["Ada@Example.com", "owner@acme.example"])
    }
  }

  @Test("refresh rotates; reusing a rotated token revokes the whole family; logout revokes")
  func refreshRotationAndReuse() async throws {
    try await AuthHarness.with { harness in
      let (tenantID, _) = try await harness.tenantWithOwner("acme")
      let first = try #require(
        try await harness.login("acme", "owner@acme.example", "correct horse battery").tokens)

      var request = Kp_Auth_V1_RefreshRequest()
      request.refreshToken = first.refreshToken
      let second = try #require(
        try await harness.channel.unary(Kp_Auth_V1_Auth.refresh, request).tokens)
      #expect(second.refreshToken != first.refreshToken)
      #expect(!second.accessToken.isEmpty)

      // The first token again: refused, and the family is gone.
      await expectError(.unauthenticated, containing: "already used") {
        _ = try await harness.channel.unary(Kp_Auth_V1_Auth.refresh, request)
      }
      request.refreshToken = second.refreshToken
      await expectError(.unauthenticated) {
        _ = try await harness.channel.unary(Kp_Auth_V1_Auth.refresh, request)
      }

      // A new session, logged out, refreshes no more.
      let third = try #require(
        try await harness.login("acme", "owner@acme.example", "correct horse battery").tokens)
      var logout = Kp_Auth_V1_LogoutRequest()
      logout.refreshToken = third.refreshToken
      _ = try await harness.channel.unary(Kp_Auth_V1_Auth.logout, logout)
      request.refreshToken = third.refreshToken
      await expectError(.unauthenticated) {
        _ = try await harness.channel.unary(Kp_Auth_V1_Auth.refresh, request)
      }
      // Garbage and another tenant's locator are refused without detail.
      request.refreshToken = "kpr_" + tenantID + "_" + String(repeating: "0", count: 64)
      await expectError(.unauthenticated) {
        _ = try await harness.channel.unary(Kp_Auth_V1_Auth.refresh, request)
      }

      let actions = try await harness.audit(tenantID).map(\.action)
      #expect(actions.contains("refresh.reuse"))
      #expect(actions.contains("logout"))
      #expect(actions.filter { $0 == "login" }.count >= 3)
    }
  }

  @Test("failed logins slow down, then lock; an unknown email fails the same way")
  func bruteForce() async throws {
    let throttles = LoginThrottles(
      account: .init(
        freeFailures: 2, baseDelay: 30, maximumDelay: 60, lockAfter: 4, lockDuration: 900,
        forgetAfter: 900),
      source: .source)
    try await AuthHarness.with(throttles: throttles) { harness in
      let (tenantID, _) = try await harness.tenantWithOwner("acme")
      for _ in 0..<3 {
        await expectError(.unauthenticated, containing: AuthService.loginRefused) {
          _ = try await harness.login("acme", "owner@acme.example", "wrong password!!")
        }
      }
      // The third failure went past the free ones: the next attempt must wait, and the error
      // says how long in words and in the retry-after-seconds trailer.
      await expectError(.resourceExhausted, containing: "try again in") {
        _ = try await harness.login("acme", "owner@acme.example", "correct horse battery")
      }
      do {
        _ = try await harness.login("acme", "owner@acme.example", "correct horse battery")
        Issue.record("expected RESOURCE_EXHAUSTED")
      } catch let error as RPCError {
        let seconds = error.trailers[MetadataKey.retryAfterSeconds].flatMap { Int($0) }
        #expect(seconds.map { (1...30).contains($0) } == true, "\(error.trailers)")
        #expect(error.message.contains("try again in \(seconds ?? -1) second"))
      }
      // Another account is not affected; an unknown email gets the same answer as a bad
      // password.
      await expectError(.unauthenticated, containing: AuthService.loginRefused) {
        _ = try await harness.login("acme", "nobody@acme.example", "correct horse battery")
      }
      await expectError(.unauthenticated, containing: AuthService.loginRefused) {
        _ = try await harness.login("no-such-tenant", "owner@acme.example", "x")
      }

      let failures = try await harness.audit(tenantID).filter {
        $0.action == "login" && $0.outcome == "failure"
      }
      #expect(failures.count == 4)
      #expect(failures.allSatisfy { $0.source == "203.0.113.7" })
    }
  }

  @Test("a login for an unknown email costs the same argon2id work as a wrong password")
  func loginTimingDoesNotRevealEmails() async throws {
    // Parameters heavy enough that the hash dominates the database work.
    let throttles = LoginThrottles(
      account: .init(
        freeFailures: 100, baseDelay: 0, maximumDelay: 0, lockAfter: 1000, lockDuration: 1,
        forgetAfter: 1),
      source: .source)
    try await AuthHarness.with(
      throttles: throttles, password: .init(memoryKiB: 32_768, iterations: 3, parallelism: 1)
    ) { harness in
      _ = try await harness.tenantWithOwner("acme")
      func median(_ email: String) async -> Duration {
        var times: [Duration] = []
        for index in 0..<5 {
          let clock = ContinuousClock()
          let started = clock.now
          _ = try? await harness.login(
            "acme", email, "wrong password \(index)", source: "198.51.100.\(index)")
          times.append(started.duration(to: clock.now))
        }
        return times.sorted()[2]
      }
      let known = await median("owner@acme.example")
      let unknown = await median("nobody@acme.example")
      let ratio = unknown / known
      #expect(ratio > 0.6 && ratio < 1.6, "known \(known), unknown \(unknown)")
    }
  }

  @Test("with tenant A's credentials, tenant B's ids are not found and B is unchanged")
  func crossTenantIsolation() async throws {
    try await AuthHarness.with { harness in
      let (tenantA, ownerA) = try await harness.tenantWithOwner("acme")
      let (tenantB, ownerB) = try await harness.tenantWithOwner("globex")
      let userB = try await harness.createUser(
        as: ownerB, email: "bob@globex.example", role: .member)
      var createKey = Kp_Auth_V1_CreateApiKeyRequest()
      createKey.name = "ci"
      createKey.scopes = ["search"]
      let keyB = try await harness.channel.unary(
        Kp_Auth_V1_Auth.createApiKey, createKey, options: harness.bearer(ownerB))
      var createGroup = Kp_Auth_V1_CreateGroupRequest()
      createGroup.name = "Engineering"
      let groupB = try #require(
        try await harness.channel.unary(
          Kp_Auth_V1_Auth.createGroup, createGroup, options: harness.bearer(ownerB)
        ).group)
      let auditBefore = try await harness.audit(tenantB).count

      // A's admin API key too.
      createKey.scopes = ["admin"]
      let keyA = try await harness.channel.unary(
        Kp_Auth_V1_Auth.createApiKey, createKey, options: harness.bearer(ownerA)
      ).secret
      for credential in [ownerA, keyA] {
        let options = harness.bearer(credential)
        for tenant in ["", tenantA, tenantB] {
          var get = Kp_Auth_V1_GetUserRequest()
          get.tenantId = tenant
          get.userId = userB.id
          await expectError(.notFound) {
            _ = try await harness.channel.unary(Kp_Auth_V1_Auth.getUser, get, options: options)
          }
          var update = Kp_Auth_V1_UpdateUserRequest()
          update.tenantId = tenant
          update.userId = userB.id
          update.role = .admin
          update.updateFields = ["role"]
          await expectError(.notFound) {
            _ = try await harness.channel.unary(
              Kp_Auth_V1_Auth.updateUser, update, options: options)
          }
          var delete = Kp_Auth_V1_DeleteUserRequest()
          delete.tenantId = tenant
          delete.userId = userB.id
          await expectError(.notFound) {
            _ = try await harness.channel.unary(
              Kp_Auth_V1_Auth.deleteUser, delete, options: options)
          }
          var revoke = Kp_Auth_V1_RevokeApiKeyRequest()
          revoke.tenantId = tenant
          revoke.keyId = keyB.key?.id ?? ""
          await expectError(.notFound) {
            _ = try await harness.channel.unary(
              Kp_Auth_V1_Auth.revokeApiKey, revoke, options: options)
          }
          var deleteGroup = Kp_Auth_V1_DeleteGroupRequest()
          deleteGroup.tenantId = tenant
          deleteGroup.groupId = groupB.id
          await expectError(.notFound) {
            _ = try await harness.channel.unary(
              Kp_Auth_V1_Auth.deleteGroup, deleteGroup, options: options)
          }
          var members = Kp_Auth_V1_ChangeGroupMembersRequest()
          members.tenantId = tenant
          members.groupId = groupB.id
          members.addUserIds = [userB.id]
          await expectError(.notFound) {
            _ = try await harness.channel.unary(
              Kp_Auth_V1_Auth.changeGroupMembers, members, options: options)
          }
        }
        var listB = Kp_Auth_V1_ListUsersRequest()
        listB.tenantId = tenantB
        await expectError(.notFound) {
          _ = try await harness.channel.unary(Kp_Auth_V1_Auth.listUsers, listB, options: options)
        }
        var auditB = Kp_Auth_V1_ListAuditEventsRequest()
        auditB.tenantId = tenantB
        await expectError(.notFound) {
          _ = try await harness.channel.unary(
            Kp_Auth_V1_Auth.listAuditEvents, auditB, options: options)
        }
      }
      // A kp-tenant entry naming B does not let A's token in.
      var options = harness.bearer(ownerA)
      options.metadata.add(MetadataKey.tenant, tenantB)
      await expectError(.notFound) {
        _ = try await harness.channel.unary(
          Kp_Auth_V1_Auth.listUsers, Kp_Auth_V1_ListUsersRequest(), options: options)
      }

      // B is untouched.
      let bOptions = harness.bearer(ownerB)
      var get = Kp_Auth_V1_GetUserRequest()
      get.userId = userB.id
      let stillB = try await harness.channel.unary(Kp_Auth_V1_Auth.getUser, get, options: bOptions)
      #expect(stillB.user?.role == .member)
      let keys = try await harness.channel.unary(
        Kp_Auth_V1_Auth.listApiKeys, Kp_Auth_V1_ListApiKeysRequest(), options: bOptions)
      #expect(keys.keys.map(\.revoked) == [false])
      let groups = try await harness.channel.unary(
        Kp_Auth_V1_Auth.listGroups, Kp_Auth_V1_ListGroupsRequest(), options: bOptions)
      #expect(groups.groups.map(\.memberIds) == [[]])
      #expect(try await harness.audit(tenantB).count == auditBefore)
    }
  }

  @Test("roles: members cannot manage; the last owner stays; changes are audited")
  func rolesAndAudit() async throws {
    try await AuthHarness.with { harness in
      let (tenantID, owner) = try await harness.tenantWithOwner("acme")
      var group = Kp_Auth_V1_CreateGroupRequest()
      group.name = "Eng"
      _ = try await harness.channel.unary(
        Kp_Auth_V1_Auth.createGroup, group, options: harness.bearer(owner))
      let member = try await harness.createUser(
        as: owner, email: "m@acme.example", role: .member, groups: ["eng"])
      #expect(member.groups == ["Eng"])
      let memberToken = try #require(
        try await harness.login("acme", "m@acme.example", "correct horse battery").tokens?
          .accessToken)
      await expectError(.permissionDenied) {
        try await harness.createUser(as: memberToken, email: "x@acme.example", role: .viewer)
      }
      // A member reads itself but not others' lists.
      var getSelf = Kp_Auth_V1_GetUserRequest()
      getSelf.userId = member.id
      _ = try await harness.channel.unary(
        Kp_Auth_V1_Auth.getUser, getSelf, options: harness.bearer(memberToken))

      let ownerID = try #require(
        try await harness.login("acme", "owner@acme.example", "correct horse battery").user?.id)
      var demote = Kp_Auth_V1_UpdateUserRequest()
      demote.userId = ownerID
      demote.role = .admin
      demote.updateFields = ["role"]
      await expectError(.failedPrecondition) {
        _ = try await harness.channel.unary(
          Kp_Auth_V1_Auth.updateUser, demote, options: harness.bearer(owner))
      }
      var promote = Kp_Auth_V1_UpdateUserRequest()
      promote.userId = member.id
      promote.role = .admin
      promote.updateFields = ["role"]
      let promoted = try await harness.channel.unary(
        Kp_Auth_V1_Auth.updateUser, promote, options: harness.bearer(owner))
      #expect(promoted.user?.role == .admin)
      #expect(promoted.user?.groups == ["Eng"])

      let events = try await harness.audit(tenantID)
      let change = try #require(events.first { $0.action == "user.role_change" })
      #expect(change.actor == ownerID)
      #expect(change.target == member.id)
      #expect(change.detail == "role=member->admin")
      #expect(change.source == "203.0.113.7")
      #expect(change.atMicros > 0)
      #expect(events.contains { $0.action == "user.create" && $0.target == member.id })
      #expect(events.contains { $0.action == "group.create" })
    }
  }

  @Test("API keys: secret once, verify, last used, revoke")
  func apiKeys() async throws {
    try await AuthHarness.with { harness in
      let (tenantID, owner) = try await harness.tenantWithOwner("acme")
      var create = Kp_Auth_V1_CreateApiKeyRequest()
      create.name = "indexer"
      create.scopes = ["ingest", "search", "ingest"]
      let created = try await harness.channel.unary(
        Kp_Auth_V1_Auth.createApiKey, create, options: harness.bearer(owner))
      #expect(created.secret.hasPrefix("kpk_\(tenantID)_"))
      #expect(created.key?.scopes == ["search", "ingest"])
      #expect(created.secret.hasPrefix(created.key?.prefix ?? "-"))

      create.scopes = ["root"]
      await expectError(.invalidArgument) {
        _ = try await harness.channel.unary(
          Kp_Auth_V1_Auth.createApiKey, create, options: harness.bearer(owner))
      }

      var verify = Kp_Auth_V1_VerifyTokenRequest()
      verify.token = created.secret
      let principal = try await harness.channel.unary(Kp_Auth_V1_Auth.verifyToken, verify)
        .principal
      #expect(principal?.apiKeyId == created.key?.id)
      #expect(principal?.scopes == ["search", "ingest"])
      // A search key does not manage the tenant.
      await expectError(.permissionDenied) {
        _ = try await harness.channel.unary(
          Kp_Auth_V1_Auth.listUsers, Kp_Auth_V1_ListUsersRequest(),
          options: harness.bearer(created.secret))
      }

      let listed = try await harness.channel.unary(
        Kp_Auth_V1_Auth.listApiKeys, Kp_Auth_V1_ListApiKeysRequest(),
        options: harness.bearer(owner))
      #expect(listed.keys.count == 1)
      #expect((listed.keys.first?.lastUsedAtMicros ?? 0) > 0)

      var revoke = Kp_Auth_V1_RevokeApiKeyRequest()
      revoke.keyId = created.key?.id ?? ""
      _ = try await harness.channel.unary(
        Kp_Auth_V1_Auth.revokeApiKey, revoke, options: harness.bearer(owner))
      await expectError(.unauthenticated) {
        _ = try await harness.channel.unary(Kp_Auth_V1_Auth.verifyToken, verify)
      }
      let actions = try await harness.audit(tenantID).map(\.action)
      #expect(actions.contains("api_key.create"))
      #expect(actions.contains("api_key.revoke"))
    }
  }

  @Test("a suspended tenant's tokens, keys and logins are refused as suspended")
  func suspendedTenant() async throws {
    try await AuthHarness.with { harness in
      let (tenantID, owner) = try await harness.tenantWithOwner("acme")
      var create = Kp_Auth_V1_CreateApiKeyRequest()
      create.name = "k"
      create.scopes = ["search"]
      let key = try await harness.channel.unary(
        Kp_Auth_V1_Auth.createApiKey, create, options: harness.bearer(owner)
      ).secret
      try await harness.setState(tenantID, "suspended")
      for credential in [owner, key] {
        var verify = Kp_Auth_V1_VerifyTokenRequest()
        verify.token = credential
        await expectError(.unauthenticated, containing: "suspended") {
          _ = try await harness.channel.unary(Kp_Auth_V1_Auth.verifyToken, verify)
        }
      }
      await expectError(.unauthenticated, containing: "suspended") {
        _ = try await harness.login("acme", "owner@acme.example", "correct horse battery")
      }
      try await harness.setState(tenantID, "active")
      _ = try await harness.login("acme", "owner@acme.example", "correct horse battery")
    }
  }

  @Test("after rotation, tokens of the retired key still verify and both keys are published")
  func rotation() async throws {
    try await AuthHarness.with { harness in
      let (_, owner) = try await harness.tenantWithOwner("acme")
      let before = try harness.keys.ring().active.keyID
      try await harness.keys.rotateNow()
      let after = try harness.keys.ring().active.keyID
      #expect(before != after)
      var verify = Kp_Auth_V1_VerifyTokenRequest()
      verify.token = owner
      _ = try await harness.channel.unary(Kp_Auth_V1_Auth.verifyToken, verify)
      let published = try await harness.channel.unary(
        Kp_Auth_V1_Auth.listSigningKeys, Kp_Auth_V1_ListSigningKeysRequest())
      #expect(Set(published.keys.map(\.keyId)) == [before, after])
      #expect(published.keys.first { $0.keyId == before }?.notAfterMicros ?? 0 > 0)

      // Long after, the retired key is deleted and its tokens are refused.
      try await harness.keys.refresh(now: Date().addingTimeInterval(1000))
      #expect(harness.keys.verificationKeys[before] == nil)
      await expectError(.unauthenticated) {
        _ = try await harness.channel.unary(Kp_Auth_V1_Auth.verifyToken, verify)
      }
    }
  }
}
