public import KPRPC

/// How an ``HTTPServer`` listens and what it allows, with documented defaults.
public struct HTTPServerConfiguration: Sendable {
  /// Where to listen. Default `127.0.0.1:0` (a free port on loopback).
  public var address = SocketAddress(host: "127.0.0.1", port: 0)
  /// What a client may send and how long it may take. Defaults as in ``HTTPServerLimits``.
  public var limits = HTTPServerLimits()
  /// How long ``HTTPServer/shutdown(grace:)`` lets in-flight requests finish when called
  /// without a grace period. Default 10 s.
  public var shutdownGracePeriod: Duration = .seconds(10)

  /// The defaults.
  public init() {}
}
