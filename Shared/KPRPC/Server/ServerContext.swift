public import KPTLS

/// What a handler knows about the call it serves.
///
/// While a handler runs, `ServerContext.current` holds its context, so a client call made from
/// the handler passes on the time left before the deadline and the trace id.
///
/// A class, not a struct: it is handed through the interceptors, the task-local value and the
/// handler, and a reference costs one retain where a copy of its strings, metadata and peer
/// identity cost one each.
public final class ServerContext: Sendable {
  /// The method, as `/package.Service/Method`.
  public let method: String
  /// The metadata the caller sent.
  public let metadata: Metadata
  /// The caller's verified identity from its certificate; nil on server-only TLS.
  public let peer: PeerIdentity?
  /// When the call must be over, on the monotonic clock; nil without a deadline.
  public let deadline: MonotonicInstant?
  /// The trace id that follows the request across services.
  public let traceID: String

  /// Makes a context.
  public init(
    method: String, metadata: Metadata, peer: PeerIdentity?, deadline: MonotonicInstant?,
    traceID: String
  ) {
    self.method = method
    self.metadata = metadata
    self.peer = peer
    self.deadline = deadline
    self.traceID = traceID
  }

  /// The time left before the deadline; nil without one.
  public var timeRemaining: Duration? {
    deadline.map { MonotonicInstant.now().duration(to: $0) }
  }

  /// Whether the call was cancelled, timed out or lost its connection.
  public var isCancelled: Bool { Task.isCancelled }

  /// The context of the call the current task serves, if any.
  @TaskLocal public static var current: ServerContext?
}
