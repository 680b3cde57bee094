/// How a server listens and what it allows, with documented defaults.
public struct RPCServerConfiguration: Sendable {
  /// Where to listen. Default `127.0.0.1:0` (a free port on loopback).
  public var address = SocketAddress(host: "127.0.0.1", port: 0)
  /// Per-connection limits. Defaults as in `ConnectionLimits`.
  public var limits = ConnectionLimits()
  /// Connections accepted at once; more are closed on arrival. Default 10,000.
  public var maximumConnections = 10_000
  /// Keepalive pings toward clients. Default: a ping after 60 s of silence.
  public var keepalive: KeepalivePolicy = {
    var policy = KeepalivePolicy()
    policy.interval = .seconds(60)
    return policy
  }()
  /// How long a graceful shutdown lets in-flight calls finish. Default 10 s.
  public var shutdownGracePeriod: Duration = .seconds(10)

  /// The defaults.
  public init() {}
}
