/// A TLS protocol version accepted by a ``TLSContext``.
public struct TLSVersion: Hashable, Sendable, CustomStringConvertible {
  let openSSLValue: Int32
  private let name: String

  private init(openSSLValue: Int32, name: String) {
    self.openSSLValue = openSSLValue
    self.name = name
  }

  /// TLS 1.2. Only for interoperating with clients outside the mesh, and for tests.
  public static let tls12 = TLSVersion(openSSLValue: 0x0303, name: "TLSv1.2")

  /// TLS 1.3, the version the mesh requires.
  public static let tls13 = TLSVersion(openSSLValue: 0x0304, name: "TLSv1.3")

  public var description: String { name }
}

/// What a ``TLSContext`` is built from: a role, PEM files and the policy for the peer.
///
/// Use the factory methods for the platform's cases:
/// - ``meshServer(certificateChain:privateKey:trustRoots:)`` and
///   ``meshClient(certificateChain:privateKey:trustRoots:)`` for mutual TLS inside the mesh;
/// - ``externalServer(certificateChain:privateKey:)`` for the gateway's public port;
/// - ``externalClient(trustRoots:)`` for the command-line tool and other outside callers.
public struct TLSConfiguration: Sendable {
  /// Which end of the handshake a context is for.
  public enum Role: Sendable {
    /// Accepts connections.
    case server

    /// Dials connections.
    case client
  }

  /// Which end of the handshake this configuration is for.
  public var role: Role

  /// The PEM file with this side's certificate first, followed by any intermediates.
  /// Required for servers and for mesh clients. Default: `nil`.
  public var certificateChainPath: String?

  /// The PEM file with the private key of the certificate. Default: `nil`.
  public var privateKeyPath: String?

  /// The PEM bundle of CA certificates used to verify the peer. A client without one uses
  /// the system's default roots; a server that requires a peer certificate must have one.
  /// Default: `nil`.
  public var trustRootsPath: String?

  /// Servers: whether a client certificate is required (mutual TLS). A client without a
  /// certificate, or with one that does not verify, is refused. Clients always verify the
  /// server and ignore this. Default: `true`.
  public var requirePeerCertificate: Bool

  /// The application protocols offered (client) or accepted (server) with ALPN, most
  /// preferred first; each 1 to 255 bytes. Empty turns ALPN off. Default: `["kp/1"]`.
  public var alpnProtocols: [String]

  /// Whether a peer that negotiates none of ``alpnProtocols`` is refused. Ignored when
  /// ``alpnProtocols`` is empty. Default: `true`.
  public var requireALPN: Bool

  /// The lowest TLS version accepted. Default: ``TLSVersion/tls13``; the mesh must not
  /// lower it.
  public var minimumVersion: TLSVersion

  /// The highest TLS version offered, or `nil` for the highest OpenSSL supports.
  /// Default: `nil`.
  public var maximumVersion: TLSVersion?

  /// Creates a configuration.
  ///
  /// - Parameters:
  ///   - role: Which end of the handshake the configuration is for.
  ///   - certificateChainPath: PEM file with this side's certificate chain, leaf first.
  ///   - privateKeyPath: PEM file with the certificate's private key.
  ///   - trustRootsPath: PEM bundle of CA certificates used to verify the peer.
  ///   - requirePeerCertificate: Servers: require a client certificate.
  ///   - alpnProtocols: Application protocols for ALPN, most preferred first.
  ///   - requireALPN: Refuse a peer that negotiates none of `alpnProtocols`.
  ///   - minimumVersion: The lowest TLS version accepted.
  ///   - maximumVersion: The highest TLS version offered, or `nil` for no limit.
  public init(
    role: Role,
    certificateChainPath: String? = nil,
    privateKeyPath: String? = nil,
    trustRootsPath: String? = nil,
    requirePeerCertificate: Bool = true,
    alpnProtocols: [String] = ["kp/1"],
    requireALPN: Bool = true,
    minimumVersion: TLSVersion = .tls13,
    maximumVersion: TLSVersion? = nil
  ) {
    self.role = role
    self.certificateChainPath = certificateChainPath
    self.privateKeyPath = privateKeyPath
    self.trustRootsPath = trustRootsPath
    self.requirePeerCertificate = requirePeerCertificate
    self.alpnProtocols = alpnProtocols
    self.requireALPN = requireALPN
    self.minimumVersion = minimumVersion
    self.maximumVersion = maximumVersion
  }

  /// A mesh server: TLS 1.3, a client certificate from `trustRoots` required, ALPN `kp/1`
  /// required.
  ///
  /// - Parameters:
  ///   - certificateChain: PEM file with the service's certificate chain.
  ///   - privateKey: PEM file with the service's private key.
  ///   - trustRoots: PEM bundle of the platform CA.
  public static func meshServer(
    certificateChain: String,
    privateKey: String,
    trustRoots: String
  ) -> TLSConfiguration {
    TLSConfiguration(
      role: .server,
      certificateChainPath: certificateChain,
      privateKeyPath: privateKey,
      trustRootsPath: trustRoots,
      requirePeerCertificate: true
    )
  }

  /// A mesh client: TLS 1.3, presents its certificate, verifies the server against
  /// `trustRoots`, ALPN `kp/1` required. Pass the expected service identity to each
  /// ``TLSSession``.
  ///
  /// - Parameters:
  ///   - certificateChain: PEM file with the service's certificate chain.
  ///   - privateKey: PEM file with the service's private key.
  ///   - trustRoots: PEM bundle of the platform CA.
  public static func meshClient(
    certificateChain: String,
    privateKey: String,
    trustRoots: String
  ) -> TLSConfiguration {
    TLSConfiguration(
      role: .client,
      certificateChainPath: certificateChain,
      privateKeyPath: privateKey,
      trustRootsPath: trustRoots
    )
  }

  /// The gateway's public port: TLS 1.3, server authentication only (no client
  /// certificate). ALPN `kp/1` is preferred but not required, so clients that offer no
  /// ALPN still connect.
  ///
  /// - Parameters:
  ///   - certificateChain: PEM file with the public certificate chain.
  ///   - privateKey: PEM file with its private key.
  public static func externalServer(
    certificateChain: String,
    privateKey: String
  ) -> TLSConfiguration {
    TLSConfiguration(
      role: .server,
      certificateChainPath: certificateChain,
      privateKeyPath: privateKey,
      requirePeerCertificate: false,
      requireALPN: false
    )
  }

  /// A client of the gateway's public port: TLS 1.3, no client certificate, verifies the
  /// server against `trustRoots` (or the system roots when `nil`). Pass the server's host
  /// name to each ``TLSSession`` so it is checked.
  ///
  /// - Parameter trustRoots: PEM bundle of CA certificates, or `nil` for the system roots.
  public static func externalClient(trustRoots: String?) -> TLSConfiguration {
    TLSConfiguration(role: .client, trustRootsPath: trustRoots, requireALPN: false)
  }
}
