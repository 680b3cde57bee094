/// The limits one side of a connection enforces, with their documented defaults.
public struct ConnectionLimits: Sendable, Equatable {
  /// The largest frame accepted, in bytes after the length prefix. Default 4 MiB.
  public var maximumFrameSize: Int = 4 * 1024 * 1024
  /// How many calls the peer may have open at once on one connection. Default 1,024.
  public var maximumConcurrentCalls: Int = 1024
  /// The flow-control window each call starts with, in bytes of payload. Default 1 MiB.
  ///
  /// A sender never has more than this many unacknowledged payload bytes queued per call, so
  /// a slow reader bounds the sender's memory.
  public var initialCallWindow: Int = 1024 * 1024
  /// A connection with no open call for this long is closed with a GOAWAY. Default 5 minutes.
  public var idleTimeout: Duration = .seconds(300)
  /// The TLS handshake and the settings exchange must finish within this time. Default 10 s.
  public var handshakeTimeout: Duration = .seconds(10)
  /// The shortest interval between pings tolerated from the peer on an otherwise quiet
  /// connection. Default 10 s.
  public var minimumPingInterval: Duration = .seconds(10)
  /// How many pings within `minimumPingInterval` are tolerated before the peer is told to
  /// stop with a GOAWAY. Default 2.
  public var pingStrikeTolerance: Int = 2

  /// The defaults.
  public init() {}
}

/// When and how a side checks that an idle connection is alive.
public struct KeepalivePolicy: Sendable, Equatable {
  /// How long without receiving anything before sending a ping. Default 30 s; nil disables.
  public var interval: Duration? = .seconds(30)
  /// How long to wait for the pong before closing the connection. Default 10 s.
  public var timeout: Duration = .seconds(10)

  /// The defaults.
  public init() {}

  /// Keepalive off.
  public static let disabled: KeepalivePolicy = {
    var policy = KeepalivePolicy()
    policy.interval = nil
    return policy
  }()
}
