public import KPProtoRuntime

/// The responses of a server-streaming or bidirectional call.
///
/// Iterating ends after the last response when the call ends OK, and throws its `RPCError`
/// otherwise, after every response that arrived before the error. Dropping the stream before
/// the end cancels the call.
public struct ResponseStream<Message: ProtoMessage>: AsyncSequence, Sendable {
  public typealias Element = Message

  private let holder: Holder

  init(call: ClientCall) {
    holder = Holder(call: call)
  }

  /// The next response, or nil after the last.
  public func next() async throws(RPCError) -> Message? {
    let call = holder.call
    let data = try await RPCChannel.withCancellation(of: call) { () async throws(RPCError) in
      try await call.inbound.next()
    }
    guard let data else { return nil }
    return try RPCChannel.decode(Message.self, data)
  }

  /// Abandons the call.
  public func cancel() { holder.call.cancel(.cancelled()) }

  public struct AsyncIterator: AsyncIteratorProtocol {
    let stream: ResponseStream<Message>

    public mutating func next() async throws -> Message? { try await stream.next() }
  }

  public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(stream: self) }

  /// Cancels the call when the last copy of the stream goes away before the call ended.
  private final class Holder: Sendable {
    let call: ClientCall

    init(call: ClientCall) { self.call = call }

    deinit {
      if call.result == nil { call.cancel(.cancelled("the caller stopped reading")) }
    }
  }
}
