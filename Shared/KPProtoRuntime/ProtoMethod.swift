/// One RPC method of a service declared in a `.proto` file.
public struct ProtoMethod<Request: ProtoMessage, Response: ProtoMessage>: Sendable {
  /// The method's path on the wire, such as `/kp.health.v1.Health/Check`.
  public let path: String

  /// Whether the client sends a stream of requests.
  public let clientStreaming: Bool

  /// Whether the server answers with a stream of responses.
  public let serverStreaming: Bool

  /// Whether the method is marked `NO_SIDE_EFFECTS` or `IDEMPOTENT`, so a call may be retried.
  public let idempotent: Bool

  /// Creates a method description; generated code calls this.
  public init(path: String, clientStreaming: Bool, serverStreaming: Bool, idempotent: Bool) {
    self.path = path
    self.clientStreaming = clientStreaming
    self.serverStreaming = serverStreaming
    self.idempotent = idempotent
  }
}
