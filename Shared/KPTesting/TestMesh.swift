public import Foundation
public import KPRPC
public import KPTLS

/// Certificates and TLS contexts for a test mesh on loopback, from one test CA.
public final class TestMesh: Sendable {
  /// The identity URI of a service name, as the platform spells it.
  public static func identity(_ service: String) -> String {
    "spiffe://knowledgeplane/svc/\(service)"
  }

  /// The mesh's CA.
  public let authority: TestCertificateAuthority

  /// Makes a CA for a test.
  public init(name: String = "kp-test-ca") throws {
    authority = try TestCertificateAuthority.make(name: name)
  }

  /// A server context for a service, requiring client certificates from this CA.
  public func serverContext(service: String) throws -> TLSContext {
    let issued = try authority.issue(identity: Self.identity(service))
    return try TLSContext(
      configuration: .meshServer(
        certificateChain: issued.certificateChainPath, privateKey: issued.privateKeyPath,
        trustRoots: authority.certificatePath))
  }

  /// A client context presenting a service's certificate.
  public func clientContext(
    service: String, validFrom: Date? = nil, validUntil: Date? = nil
  ) throws -> TLSContext {
    let issued = try authority.issue(
      identity: Self.identity(service), validFrom: validFrom, validUntil: validUntil)
    return try TLSContext(
      configuration: .meshClient(
        certificateChain: issued.certificateChainPath, privateKey: issued.privateKeyPath,
        trustRoots: authority.certificatePath))
  }

  /// Starts a server for `service` offering `services` on a free loopback port.
  public func startServer(
    service: String,
    offering services: [any RPCService],
    configuration: RPCServerConfiguration = RPCServerConfiguration(),
    interceptors: [any ServerInterceptor] = []
  ) throws -> RPCServer {
    let server = RPCServer(
      configuration: configuration, tls: try serverContext(service: service),
      services: services, interceptors: interceptors)
    try server.start()
    return server
  }

  /// A channel from `caller` to the servers of `service` at `ports`.
  public func channel(
    from caller: String, to service: String, ports: [Int],
    configuration: RPCClientConfiguration = RPCClientConfiguration()
  ) throws -> RPCChannel {
    RPCChannel(
      target: RPCTarget(
        endpoints: ports.map { SocketAddress(host: "127.0.0.1", port: $0) },
        expectedIdentity: Self.identity(service)),
      tls: try clientContext(service: caller), configuration: configuration)
  }
}
