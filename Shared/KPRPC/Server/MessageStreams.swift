public import KPProtoRuntime

/// The messages a caller sends on a client-streaming or bidirectional call.
public struct RequestStream<Message: ProtoMessage>: AsyncSequence, Sendable {
  public typealias Element = Message

  let nextBytes: @Sendable () async throws(RPCError) -> [UInt8]?

  /// The next message, or nil after the caller's last one.
  public func next() async throws(RPCError) -> Message? {
    guard let bytes = try await nextBytes() else { return nil }
    do {
      return try Message(serializedBytes: bytes)
    } catch {
      throw RPCError(
        .invalidArgument, "a \(Message.protoMessageName) message could not be decoded: \(error)")
    }
  }

  public struct AsyncIterator: AsyncIteratorProtocol {
    let stream: RequestStream<Message>

    public mutating func next() async throws -> Message? { try await stream.next() }
  }

  public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(stream: self) }
}

/// Sends messages on a streaming call, waiting when the receiver is slow.
public struct MessageWriter<Message: ProtoMessage>: Sendable {
  let sendBytes: @Sendable ([UInt8]) async throws(RPCError) -> Void

  /// Sends one message. Waits while the peer's flow-control window is used up; throws when
  /// the call has ended.
  public func send(_ message: Message) async throws(RPCError) {
    try await sendBytes(message.serializedBytes())
  }
}
