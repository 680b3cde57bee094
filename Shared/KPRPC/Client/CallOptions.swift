/// Per-call settings.
public struct CallOptions: Sendable {
  /// How long the call may take. Nil takes the time left on the call being served (when
  /// called from a handler) or else the channel's default.
  public var timeout: Duration?
  /// Metadata to send. The trace id of the call being served is added when absent.
  public var metadata: Metadata
  /// The trace id of the call being served when this one was made, set by the channel.
  var inheritedTraceID: String?

  /// Makes options.
  public init(timeout: Duration? = nil, metadata: Metadata = Metadata()) {
    self.timeout = timeout
    self.metadata = metadata
  }
}

/// Retries for idempotent methods that fail with UNAVAILABLE, with backoff and jitter.
public struct RetryPolicy: Sendable {
  /// Attempts in all, the first included. Default 3; 1 disables retries.
  public var maximumAttempts = 3
  /// The wait before the first retry. Default 20 ms.
  public var initialBackoff: Duration = .milliseconds(20)
  /// The longest wait between attempts. Default 1 s.
  public var maximumBackoff: Duration = .seconds(1)
  /// Each wait is the previous one times this. Default 2.
  public var multiplier: Double = 2

  /// The defaults.
  public init() {}

  /// The wait before attempt `attempt` (2 for the first retry), with full jitter.
  func backoff(beforeAttempt attempt: Int) -> Duration {
    var ceiling = Double(initialBackoff.nanosecondsClamped)
    for _ in 2..<max(2, attempt) { ceiling *= multiplier }
    ceiling = min(ceiling, Double(maximumBackoff.nanosecondsClamped))
    return .nanoseconds(Int64(Double.random(in: 0.5...1.0) * ceiling))
  }
}

/// How a channel connects and calls, with documented defaults.
public struct RPCClientConfiguration: Sendable {
  /// Connections kept to each endpoint. Default 1; calls spread across them.
  public var connectionsPerEndpoint = 1
  /// The time allowed to open TCP and finish TLS. Default 5 s.
  public var connectTimeout: Duration = .seconds(5)
  /// The timeout of calls that set none and are not made from a handler. Default 30 s.
  public var defaultTimeout: Duration = .seconds(30)
  /// Per-connection limits on what this side receives.
  public var limits = ConnectionLimits()
  /// Keepalive pings toward the server. Default: a ping after 30 s of silence.
  public var keepalive = KeepalivePolicy()
  /// Retries of idempotent methods on UNAVAILABLE.
  public var retry = RetryPolicy()

  /// The defaults.
  public init() {}
}

/// The service a channel calls: its endpoints and the identity its certificate must carry.
public struct RPCTarget: Sendable {
  /// The addresses of the service's instances; calls spread across them.
  public var endpoints: [SocketAddress]
  /// The identity (SAN URI) the server's certificate must carry, such as
  /// `spiffe://knowledgeplane/svc/auth`; nil checks only the chain (server-only TLS).
  public var expectedIdentity: String?
  /// The name sent in SNI, when any.
  public var serverName: String?

  /// Makes a target.
  public init(endpoints: [SocketAddress], expectedIdentity: String?, serverName: String? = nil) {
    self.endpoints = endpoints
    self.expectedIdentity = expectedIdentity
    self.serverName = serverName
  }
}
