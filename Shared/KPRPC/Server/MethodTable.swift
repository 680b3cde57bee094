public import KPProtoRuntime

/// A service's methods and their handlers, keyed by method path.
public struct MethodTable: Sendable {
  /// A handler with its types erased: reads request bytes and sends response bytes.
  struct Entry: Sendable {
    let path: String
    let policy: CallerPolicy
    let run: @Sendable (CallIO, ServerContext) async throws -> Void
  }

  /// The byte-level operations of one call, for erased handlers.
  struct CallIO: Sendable {
    let next: @Sendable () async throws(RPCError) -> [UInt8]?
    let send: @Sendable ([UInt8]) async throws(RPCError) -> Void
  }

  private(set) var entries: [String: Entry] = [:]

  /// An empty table.
  public init() {}

  /// Adds a unary method: one request, one response.
  public mutating func unary<Request, Response>(
    _ method: ProtoMethod<Request, Response>,
    callers: CallerPolicy,
    _ handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
  ) {
    add(method.path, callers) { io, context in
      let request = try await Self.single(Request.self, io)
      let response = try await handler(request, context)
      try await io.send(response.serializedBytes())
    }
  }

  /// Adds a server-streaming method: one request, any number of responses.
  public mutating func serverStreaming<Request, Response>(
    _ method: ProtoMethod<Request, Response>,
    callers: CallerPolicy,
    _ handler:
      @escaping @Sendable (Request, MessageWriter<Response>, ServerContext) async throws -> Void
  ) {
    add(method.path, callers) { io, context in
      let request = try await Self.single(Request.self, io)
      try await handler(request, MessageWriter(sendBytes: io.send), context)
    }
  }

  /// Adds a client-streaming method: any number of requests, one response.
  public mutating func clientStreaming<Request, Response>(
    _ method: ProtoMethod<Request, Response>,
    callers: CallerPolicy,
    _ handler: @escaping @Sendable (RequestStream<Request>, ServerContext) async throws -> Response
  ) {
    add(method.path, callers) { io, context in
      let response = try await handler(RequestStream(nextBytes: io.next), context)
      try await io.send(response.serializedBytes())
    }
  }

  /// Adds a bidirectional method: requests and responses flow independently.
  public mutating func bidirectional<Request, Response>(
    _ method: ProtoMethod<Request, Response>,
    callers: CallerPolicy,
    _ handler:
      @escaping @Sendable (RequestStream<Request>, MessageWriter<Response>, ServerContext)
      async throws -> Void
  ) {
    add(method.path, callers) { io, context in
      try await handler(
        RequestStream(nextBytes: io.next), MessageWriter(sendBytes: io.send), context)
    }
  }

  private mutating func add(
    _ path: String, _ policy: CallerPolicy,
    _ run: @escaping @Sendable (CallIO, ServerContext) async throws -> Void
  ) {
    precondition(entries[path] == nil, "method \(path) registered twice")
    entries[path] = Entry(path: path, policy: policy, run: run)
  }

  /// Adds every method of another table.
  public mutating func merge(_ other: MethodTable) {
    for entry in other.entries.values { add(entry.path, entry.policy, entry.run) }
  }

  private static func single<Request: ProtoMessage>(
    _ type: Request.Type, _ io: CallIO
  ) async throws(RPCError) -> Request {
    guard let bytes = try await io.next() else {
      throw RPCError(.invalidArgument, "the call ended without a request message")
    }
    guard try await io.next() == nil else {
      throw RPCError(.invalidArgument, "a unary call carried more than one request message")
    }
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
