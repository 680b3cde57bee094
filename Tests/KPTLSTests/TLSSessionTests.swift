import Foundation
import KPTLS
import KPTesting
import Testing

/// Identities used across the tests.
enum Identity {
  static let gateway = "spiffe://knowledgeplane/svc/gateway"
  static let auth = "spiffe://knowledgeplane/svc/auth"
  static let tenants = "spiffe://knowledgeplane/svc/tenants"
}

/// Where a test loads its certificates from.
enum CredentialSource: CaseIterable, CustomStringConvertible {
  case files
  case memory

  var description: String { self == .files ? "PEM files" : "PEM in memory" }
}

/// Shared certificate authorities: one for the platform, one foreign.
private enum Authorities {
  static let platform = try! TestCertificateAuthority.make(name: "platform")
  static let foreign = try! TestCertificateAuthority.make(name: "foreign")
}

/// Makes a context from an issued certificate, from its files or its PEM text.
private func context(
  _ configuration: TLSConfiguration,
  certificate: IssuedCertificate?,
  trustRoots: TestCertificateAuthority?,
  source: CredentialSource = .files
) throws -> TLSContext {
  var configuration = configuration
  switch source {
  case .files:
    configuration.certificateChainPath = certificate?.certificateChainPath
    configuration.privateKeyPath = certificate?.privateKeyPath
    configuration.trustRootsPath = trustRoots?.certificatePath
    return try TLSContext(configuration: configuration)
  case .memory:
    return try TLSContext(
      configuration: configuration,
      certificateChainPEM: certificate?.certificatePEM,
      privateKeyPEM: certificate?.privateKeyPEM,
      trustRootsPEM: trustRoots?.certificatePEM
    )
  }
}

/// A mesh server for `identity` under the platform CA.
private func meshServer(_ identity: String = Identity.auth) throws -> TLSContext {
  try context(
    TLSConfiguration(role: .server),
    certificate: Authorities.platform.issue(identity: identity),
    trustRoots: Authorities.platform)
}

@Suite("TLS sessions over loopback")
struct TLSSessionTests {
  init() {
    TLSRuntime.ignoreSIGPIPE()
  }

  @Test(
    "mutual TLS 1.3 succeeds, identities, ALPN and version are read on both sides",
    arguments: CredentialSource.allCases)
  func mutualTLSSucceeds(source: CredentialSource) throws {
    let ca = Authorities.platform
    let serverContext = try context(
      TLSConfiguration(role: .server), certificate: ca.issue(identity: Identity.auth),
      trustRoots: ca, source: source)
    let clientContext = try context(
      TLSConfiguration(role: .client), certificate: ca.issue(identity: Identity.gateway),
      trustRoots: ca, source: source)
    let connection = try LoopbackConnection.make()
    let server = try TLSSession(
      context: serverContext, fileDescriptor: connection.server, expectedPeerIdentity: nil,
      serverName: nil)
    let client = try TLSSession(
      context: clientContext, fileDescriptor: connection.client,
      expectedPeerIdentity: Identity.auth, serverName: "localhost")

    let outcome = runHandshakes(client: client, server: server, over: connection)
    #expect(outcome.client.succeeded, "client: \(outcome.client)")
    #expect(outcome.server.succeeded, "server: \(outcome.server)")

    #expect(server.peerIdentity?.primary == Identity.gateway)
    #expect(server.peerIdentity?.commonName == "gateway")
    #expect(client.peerIdentity?.primary == Identity.auth)
    #expect(client.peerIdentity?.dnsNames == ["localhost"])
    #expect(client.negotiatedALPN == "kp/1")
    #expect(server.negotiatedALPN == "kp/1")
    #expect(client.protocolVersion == "TLSv1.3")
    #expect(server.protocolVersion == "TLSv1.3")

    #expect(writeAll(Array("ping".utf8), to: client, over: connection))
    #expect(readBytes(4, from: server, over: connection) == Array("ping".utf8))
    #expect(writeAll(Array("pong".utf8), to: server, over: connection))
    #expect(readBytes(4, from: client, over: connection) == Array("pong".utf8))

    client.shutdown()
    var buffer = [UInt8](repeating: 0, count: 16)
    let end = buffer.withUnsafeMutableBytes { readResult(server, over: connection, into: $0) }
    guard case .closed = end else {
      Issue.record("expected a clean close, got \(end)")
      return
    }
  }

  @Test("a client without a certificate is refused, and sees it on its first read")
  func clientWithoutCertificate() throws {
    let connection = try LoopbackConnection.make()
    let client = try TLSSession(
      context: context(
        TLSConfiguration(role: .client), certificate: nil, trustRoots: Authorities.platform),
      fileDescriptor: connection.client, expectedPeerIdentity: Identity.auth,
      serverName: "localhost")
    let server = try TLSSession(
      context: meshServer(), fileDescriptor: connection.server, expectedPeerIdentity: nil,
      serverName: nil)

    let outcome = runHandshakes(client: client, server: server, over: connection)
    let serverError = try #require(outcome.server.error, "server: \(outcome.server)")
    #expect(serverError.code == .certificateRejected)
    #expect(serverError.message.contains("did not present a certificate"))
    #expect(server.peerIdentity == nil)

    // TLS 1.3: the client's handshake completes; the refusal arrives with its first read.
    #expect(outcome.client.succeeded, "client: \(outcome.client)")
    var buffer = [UInt8](repeating: 0, count: 16)
    let read = buffer.withUnsafeMutableBytes { readResult(client, over: connection, into: $0) }
    guard case .failed(let clientError) = read else {
      Issue.record("expected the client's read to fail, got \(read)")
      return
    }
    #expect(clientError.code == .certificateRejected)
    #expect(clientError.message.contains("requires a client certificate"))
  }

  @Test("a client certificate from another CA is refused")
  func clientFromAnotherAuthority() throws {
    let foreign = try Authorities.foreign.issue(identity: Identity.gateway)
    let error = try refusedClient(certificate: foreign)
    #expect(error.message.contains("not issued by a trusted certificate authority"))
  }

  @Test("an expired client certificate is refused")
  func expiredClientCertificate() throws {
    let now = Date()
    let expired = try Authorities.platform.issue(
      identity: Identity.gateway, validFrom: now.addingTimeInterval(-10 * 86400),
      validUntil: now.addingTimeInterval(-86400))
    let error = try refusedClient(certificate: expired)
    #expect(error.message.contains("peer certificate has expired"))
  }

  /// Runs a mesh handshake with the client presenting `certificate`; expects the server to
  /// refuse it and the client to see the refusal; returns the server's error.
  private func refusedClient(certificate: IssuedCertificate) throws -> TLSError {
    let connection = try LoopbackConnection.make()
    let client = try TLSSession(
      context: context(
        TLSConfiguration(role: .client), certificate: certificate,
        trustRoots: Authorities.platform),
      fileDescriptor: connection.client, expectedPeerIdentity: Identity.auth,
      serverName: "localhost")
    let server = try TLSSession(
      context: meshServer(), fileDescriptor: connection.server, expectedPeerIdentity: nil,
      serverName: nil)

    let outcome = runHandshakes(client: client, server: server, over: connection)
    let serverError = try #require(outcome.server.error, "server: \(outcome.server)")
    #expect(serverError.code == .certificateRejected)

    var buffer = [UInt8](repeating: 0, count: 16)
    let read = buffer.withUnsafeMutableBytes { readResult(client, over: connection, into: $0) }
    guard case .failed(let clientError) = read else {
      Issue.record("expected the client's read to fail, got \(read)")
      return serverError
    }
    #expect(clientError.code == .certificateRejected)
    return serverError
  }

  @Test("a server presenting another identity fails the client with peerIdentityMismatch")
  func serverWithWrongIdentity() throws {
    let connection = try LoopbackConnection.make()
    let client = try TLSSession(
      context: context(
        TLSConfiguration(role: .client),
        certificate: Authorities.platform.issue(identity: Identity.gateway),
        trustRoots: Authorities.platform),
      fileDescriptor: connection.client, expectedPeerIdentity: Identity.auth,
      serverName: "localhost")
    let server = try TLSSession(
      context: meshServer(Identity.tenants), fileDescriptor: connection.server,
      expectedPeerIdentity: nil, serverName: nil)

    let outcome = runHandshakes(client: client, server: server, over: connection)
    let clientError = try #require(outcome.client.error, "client: \(outcome.client)")
    #expect(clientError.code == .peerIdentityMismatch)
    #expect(clientError.message.contains(Identity.tenants))
    #expect(!outcome.server.succeeded, "server: \(outcome.server)")
    #expect(client.peerIdentity == nil)
  }

  @Test("a server expecting one client identity refuses another")
  func clientWithWrongIdentity() throws {
    let connection = try LoopbackConnection.make()
    let client = try TLSSession(
      context: context(
        TLSConfiguration(role: .client),
        certificate: Authorities.platform.issue(identity: Identity.tenants),
        trustRoots: Authorities.platform),
      fileDescriptor: connection.client, expectedPeerIdentity: Identity.auth,
      serverName: "localhost")
    let server = try TLSSession(
      context: meshServer(), fileDescriptor: connection.server,
      expectedPeerIdentity: Identity.gateway, serverName: nil)

    let outcome = runHandshakes(client: client, server: server, over: connection)
    let serverError = try #require(outcome.server.error, "server: \(outcome.server)")
    #expect(serverError.code == .peerIdentityMismatch)
    #expect(server.peerIdentity == nil)
  }

  @Test("a plain TCP client sending garbage fails the server's handshake cleanly")
  func plainTCPClient() throws {
    let connection = try LoopbackConnection.make()
    let server = try TLSSession(
      context: meshServer(), fileDescriptor: connection.server, expectedPeerIdentity: nil,
      serverName: nil)
    let garbage = Array("hello, this is not TLS\r\n\r\n".utf8)
    #expect(garbage.withUnsafeBytes { send(connection.client, $0.baseAddress, $0.count, 0) } > 0)

    let outcome = runHandshakes(client: nil, server: server, over: connection)
    let error = try #require(outcome.server.error, "server: \(outcome.server)")
    #expect(error.code == .handshakeFailed)
    #expect(error.message.contains("did not start a TLS handshake"))

    // The session stays failed; further calls do not touch OpenSSL again.
    var buffer = [UInt8](repeating: 0, count: 8)
    let read = buffer.withUnsafeMutableBytes { server.read(into: $0) }
    guard case .failed = read else {
      Issue.record("expected the failed session to stay failed, got \(read)")
      return
    }
    server.shutdown()
  }

  @Test("a client limited to TLS 1.2 is refused")
  func tls12Client() throws {
    let connection = try LoopbackConnection.make()
    var configuration = TLSConfiguration(role: .client)
    configuration.minimumVersion = .tls12
    configuration.maximumVersion = .tls12
    let client = try TLSSession(
      context: context(
        configuration, certificate: Authorities.platform.issue(identity: Identity.gateway),
        trustRoots: Authorities.platform),
      fileDescriptor: connection.client, expectedPeerIdentity: Identity.auth,
      serverName: "localhost")
    let server = try TLSSession(
      context: meshServer(), fileDescriptor: connection.server, expectedPeerIdentity: nil,
      serverName: nil)

    let outcome = runHandshakes(client: client, server: server, over: connection)
    let serverError = try #require(outcome.server.error, "server: \(outcome.server)")
    #expect(serverError.code == .protocolVersion)
    #expect(serverError.message.contains("TLSv1.3"))
    let clientError = try #require(outcome.client.error, "client: \(outcome.client)")
    #expect(clientError.code == .protocolVersion)
  }

  @Test("a client offering another application protocol is refused")
  func alpnMismatch() throws {
    let connection = try LoopbackConnection.make()
    var configuration = TLSConfiguration(role: .client)
    configuration.alpnProtocols = ["h2"]
    let client = try TLSSession(
      context: context(
        configuration, certificate: Authorities.platform.issue(identity: Identity.gateway),
        trustRoots: Authorities.platform),
      fileDescriptor: connection.client, expectedPeerIdentity: Identity.auth,
      serverName: "localhost")
    let server = try TLSSession(
      context: meshServer(), fileDescriptor: connection.server, expectedPeerIdentity: nil,
      serverName: nil)

    let outcome = runHandshakes(client: client, server: server, over: connection)
    #expect(outcome.server.error?.code == .applicationProtocol, "server: \(outcome.server)")
    #expect(outcome.client.error?.code == .applicationProtocol, "client: \(outcome.client)")
  }

  @Test("the external server-only TLS works without a client certificate")
  func externalServerOnly() throws {
    let issued = try Authorities.platform.issue(identity: Identity.gateway)
    let serverContext = try TLSContext(
      configuration: .externalServer(
        certificateChain: issued.certificateChainPath, privateKey: issued.privateKeyPath))
    let clientContext = try TLSContext(
      configuration: .externalClient(trustRoots: Authorities.platform.certificatePath))
    let connection = try LoopbackConnection.make()
    let server = try TLSSession(
      context: serverContext, fileDescriptor: connection.server, expectedPeerIdentity: nil,
      serverName: nil)
    let client = try TLSSession(
      context: clientContext, fileDescriptor: connection.client, expectedPeerIdentity: nil,
      serverName: "localhost")

    let outcome = runHandshakes(client: client, server: server, over: connection)
    #expect(outcome.client.succeeded, "client: \(outcome.client)")
    #expect(outcome.server.succeeded, "server: \(outcome.server)")
    #expect(server.peerIdentity == nil)
    #expect(client.peerIdentity?.dnsNames == ["localhost"])
    #expect(client.protocolVersion == "TLSv1.3")
    #expect(writeAll(Array("GET".utf8), to: client, over: connection))
    #expect(readBytes(3, from: server, over: connection) == Array("GET".utf8))
  }

  @Test("an external client checks the server name it dialled")
  func externalClientChecksServerName() throws {
    let issued = try Authorities.platform.issue(identity: Identity.gateway)
    let serverContext = try TLSContext(
      configuration: .externalServer(
        certificateChain: issued.certificateChainPath, privateKey: issued.privateKeyPath))
    let clientContext = try TLSContext(
      configuration: .externalClient(trustRoots: Authorities.platform.certificatePath))
    let connection = try LoopbackConnection.make()
    let server = try TLSSession(
      context: serverContext, fileDescriptor: connection.server, expectedPeerIdentity: nil,
      serverName: nil)
    let client = try TLSSession(
      context: clientContext, fileDescriptor: connection.client, expectedPeerIdentity: nil,
      serverName: "gateway.example.com")

    let outcome = runHandshakes(client: client, server: server, over: connection)
    let error = try #require(outcome.client.error, "client: \(outcome.client)")
    #expect(error.code == .certificateRejected)
    #expect(error.message.contains("does not match the server name"))
  }

  @Test("many small round trips complete")
  func roundTrips() throws {
    let connection = try LoopbackConnection.make()
    let server = try TLSSession(
      context: meshServer(), fileDescriptor: connection.server, expectedPeerIdentity: nil,
      serverName: nil)
    let client = try TLSSession(
      context: context(
        TLSConfiguration(role: .client),
        certificate: Authorities.platform.issue(identity: Identity.gateway),
        trustRoots: Authorities.platform),
      fileDescriptor: connection.client, expectedPeerIdentity: Identity.auth,
      serverName: "localhost")
    let outcome = runHandshakes(client: client, server: server, over: connection)
    try #require(outcome.client.succeeded && outcome.server.succeeded)

    let message = [UInt8](repeating: 7, count: 64)
    let rounds = 2000
    let clock = ContinuousClock()
    let start = clock.now
    var completed = 0
    for _ in 0..<rounds {
      guard writeAll(message, to: client, over: connection),
        readBytes(message.count, from: server, over: connection) == message,
        writeAll(message, to: server, over: connection),
        readBytes(message.count, from: client, over: connection) == message
      else { break }
      completed += 1
    }
    let elapsed = clock.now - start
    #expect(completed == rounds)
    #expect(elapsed < .seconds(20))
    print("KPTLSTests: \(rounds) TLS round trips of 64 bytes on one thread took \(elapsed)")
  }
}

@Suite("TLS context configuration")
struct TLSContextTests {
  @Test("a missing certificate file is a configuration error naming the file")
  func missingFile() {
    let configuration = TLSConfiguration.meshServer(
      certificateChain: "/nonexistent/cert.pem", privateKey: "/nonexistent/key.pem",
      trustRoots: "/nonexistent/ca.pem")
    #expect {
      try TLSContext(configuration: configuration)
    } throws: { error in
      let error = error as? TLSError
      return error?.code == .configuration
        && error?.message.contains("/nonexistent/cert.pem") == true
    }
  }

  @Test("a key that does not match its certificate is a configuration error")
  func mismatchedKey() throws {
    let first = try Authorities.platform.issue(identity: Identity.auth)
    let second = try Authorities.platform.issue(identity: Identity.auth)
    let configuration = TLSConfiguration.meshServer(
      certificateChain: first.certificateChainPath, privateKey: second.privateKeyPath,
      trustRoots: Authorities.platform.certificatePath)
    #expect {
      try TLSContext(configuration: configuration)
    } throws: { error in
      let error = error as? TLSError
      return error?.code == .configuration && error?.message.contains("does not match") == true
    }
  }

  @Test("a server requiring client certificates needs trust roots")
  func serverWithoutTrustRoots() throws {
    let issued = try Authorities.platform.issue(identity: Identity.auth)
    let configuration = TLSConfiguration(
      role: .server, certificateChainPath: issued.certificateChainPath,
      privateKeyPath: issued.privateKeyPath)
    #expect(throws: TLSError(code: .configuration, message: "")) {
      try TLSContext(configuration: configuration)
    }
  }

  @Test("an ALPN name longer than 255 bytes is refused")
  func longALPNName() {
    var configuration = TLSConfiguration.externalClient(trustRoots: nil)
    configuration.alpnProtocols = [String(repeating: "x", count: 256)]
    #expect(throws: TLSError(code: .configuration, message: "")) {
      try TLSContext(configuration: configuration)
    }
  }
}
