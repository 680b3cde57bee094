public import KPProtoRuntime

/// A service's methods and their handlers, keyed by method path.
public struct MethodTable: Sendable {
  /// A handler with its types erased: reads request bytes and sends response bytes.
  struct Entry: Sendable {
    let path: String
    let policy: CallerPolicy
    let handler: Handler
  }

  /// How a method's handler takes its messages.
  @usableFromInline
  enum Handler: Sendable {
    /// One request in, one response out: the server runs it once the request is complete.
    case unary(@Sendable ([UInt8], ServerContext) async throws -> [UInt8])
    /// Any other shape: the handler reads and sends through the call's streams.
    case streaming(@Sendable (CallIO, ServerContext) async throws -> Void)
  }

  /// The byte-level operations of one call, for erased handlers.
  @usableFromInline
  struct CallIO: Sendable {
    let next: @Sendable () async throws(RPCError) -> [UInt8]?
    let send: @Sendable ([UInt8]) async throws(RPCError) -> Void
  }

  private(set) var entries: [String: Entry] = [:]

  /// An empty table.
  public init() {}

  /// Adds a unary method: one request, one response.
  ///
  /// Inlinable, so that the handler's wrapper is compiled for the concrete message types in
  /// the service's module instead of running generically on every call.
  @inlinable
  public mutating func unary<Request, Response>(
    _ method: ProtoMethod<Request, Response>,
    callers: CallerPolicy,
    _ handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
  ) {
    add(
      method.path, callers,
      .unary { bytes, context in
        let request = try Self.decode(Request.self, bytes)
        return try await handler(request, context).serializedBytes()
      })
  }

  /// Adds a server-streaming method: one request, any number of responses.
  public mutating func serverStreaming<Request, Response>(
    _ method: ProtoMethod<Request, Response>,
    callers: CallerPolicy,
    _ handler:
      @escaping @Sendable (Request, MessageWriter<Response>, ServerContext) async throws -> Void
  ) {
    add(
      method.path, callers,
      .streaming { io, context in
        let request = try await Self.single(Request.self, io)
        try await handler(request, MessageWriter(sendBytes: io.send), context)
      })
  }

  /// Adds a client-streaming method: any number of requests, one response.
  public mutating func clientStreaming<Request, Response>(
    _ method: ProtoMethod<Request, Response>,
    callers: CallerPolicy,
    _ handler: @escaping @Sendable (RequestStream<Request>, ServerContext) async throws -> Response
  ) {
    add(
      method.path, callers,
      .streaming { io, context in
        let response = try await handler(RequestStream(nextBytes: io.next), context)
        try await io.send(response.serializedBytes())
      })
  }

  /// Adds a bidirectional method: requests and responses flow independently.
  public mutating func bidirectional<Request, Response>(
    _ method: ProtoMethod<Request, Response>,
    callers: CallerPolicy,
    _ handler:
      @escaping @Sendable (RequestStream<Request>, MessageWriter<Response>, ServerContext)
      async throws -> Void
  ) {
    add(
      method.path, callers,
      .streaming { io, context in
        try await handler(
          RequestStream(nextBytes: io.next), MessageWriter(sendBytes: io.send), context)
      })
  }

  @usableFromInline
  mutating func add(_ path: String, _ policy: CallerPolicy, _ handler: Handler) {
    precondition(entries[path] == nil, "method \(path) registered twice")
    entries[path] = Entry(path: path, policy: policy, handler: handler)
  }

  /// Adds every method of another table.
  public mutating func merge(_ other: MethodTable) {
    for entry in other.entries.values { add(entry.path, entry.policy, entry.handler) }
  }

  private static func single<Request: ProtoMessage>(
    _ type: Request.Type, _ io: CallIO
  ) async throws(RPCError) -> Request {
    guard let bytes = try await io.next() else {
      throw RPCError(.invalidArgument, "the call ended without a request message")
    }
    guard try await io.next() == nil else {
      throw RPCError(.invalidArgument, "a call of this method carried more than one request")
    }
    return try decode(Request.self, bytes)
  }

  @usableFromInline
  static func decode<Request: ProtoMessage>(
    _ type: Request.Type, _ bytes: [UInt8]
  ) throws(RPCError) -> Request {
    do {
      return try Request(serializedBytes: bytes)
    } catch {
      throw RPCError(
        .invalidArgument, "the request is not a valid \(Request.protoMessageName): \(error)")
    }
  }
}

/// A set of methods a server offers.
public protocol RPCService: Sendable {
  /// Adds the service's methods to a table.
  func register(into table: inout MethodTable)
}
