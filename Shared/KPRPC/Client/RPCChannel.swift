public import KPLogging
public import KPProtoRuntime
public import KPTLS
import Synchronization

/// Calls one service: a pool of connections across its endpoints, opened lazily.
///
/// Calls spread across the endpoints and connections in turn. A connection the server drains
/// (GOAWAY) or that fails is replaced on the next call. Idempotent unary methods that fail with
/// UNAVAILABLE are retried with backoff and jitter, within the call's deadline. A call made
/// while serving another inherits the time left on it and its trace id.
public final class RPCChannel: Sendable {
  private final class Slot: @unchecked Sendable {
    var connection: Connection?
    var usable = false
    /// After a failed connect, the slot is avoided until then.
    var avoidUntil = MonotonicInstant(nanoseconds: 0)
  }

  private struct Pool {
    var slots: [Slot]
    var counter = 0
    var closed = false
  }

  /// The service this channel calls.
  public let target: RPCTarget
  /// How the channel connects and calls.
  public let configuration: RPCClientConfiguration

  private let tls: TLSContext
  private let group: EventLoopGroup
  private let logger: Logger
  private let pool: Mutex<Pool>
  private let interceptors: [any ClientInterceptor]

  /// Makes a channel; nothing connects until the first call.
  public init(
    target: RPCTarget,
    tls: TLSContext,
    configuration: RPCClientConfiguration = RPCClientConfiguration(),
    group: EventLoopGroup = .shared,
    interceptors: [any ClientInterceptor] = [],
    logger: Logger = .disabled
  ) {
    precondition(!target.endpoints.isEmpty, "a target needs at least one endpoint")
    self.interceptors = interceptors
    self.target = target
    self.tls = tls
    self.configuration = configuration
    self.group = group
    self.logger = logger
    let count = target.endpoints.count * max(1, configuration.connectionsPerEndpoint)
    pool = Mutex(Pool(slots: (0..<count).map { _ in Slot() }))
  }

  // MARK: Calls

  /// Calls a unary method.
  ///
  /// Inlinable, so that encoding and decoding are compiled for the concrete message types at
  /// the call site; the rest of the call is not generic.
  @inlinable
  public func unary<Request, Response>(
    _ method: ProtoMethod<Request, Response>,
    _ request: Request,
    options: CallOptions = CallOptions()
  ) async throws(RPCError) -> Response {
    let data = try await unaryBytes(
      method.path, idempotent: method.idempotent, request.serializedBytes(), options: options)
    return try Self.decode(Response.self, data)
  }

  /// The body of a unary call, on serialized messages: the generic wrapper above only encodes
  /// and decodes, so the rest runs as code specialised once rather than through generic
  /// metadata on every call.
  @usableFromInline
  func unaryBytes(
    _ path: String, idempotent: Bool, _ requestBytes: [UInt8], options: CallOptions
  ) async throws(RPCError) -> [UInt8] {
    var options = options
    let deadline = try effectiveDeadline(&options)
    options = try intercepted(path, options)
    let started = MonotonicInstant.now()
    var attempt = 1
    while true {
      do {
        let response = try await unaryAttempt(
          path, requestBytes, options: options, deadline: deadline)
        finished(path, nil, since: started)
        return response
      } catch {
        let retry =
          error.code == .unavailable && idempotent
          && attempt < configuration.retry.maximumAttempts && !Task.isCancelled
        guard retry else {
          finished(path, error, since: started)
          throw error
        }
        attempt += 1
        let wait = configuration.retry.backoff(beforeAttempt: attempt)
        guard MonotonicInstant.now().advanced(by: wait) < deadline else {
          finished(path, error, since: started)
          throw error
        }
        logger.debug("retrying", ["method": path, "attempt": "\(attempt)"])
        do {
          try await Task.sleep(for: wait)
        } catch {
          throw .cancelled()
        }
      }
    }
  }

  private func unaryAttempt(
    _ path: String,
    _ requestBytes: [UInt8],
    options: CallOptions,
    deadline: MonotonicInstant
  ) async throws(RPCError) -> [UInt8] {
    let call = try startCall(
      path, options: options, deadline: deadline, onlyRequest: requestBytes,
      endpoint: ClientUnaryCall.init)
    do {
      return try await withTaskCancellationHandler {
        try await call.response()
      } onCancel: {
        call.cancel(.cancelled())
      }
    } catch {
      throw Self.asRPCError(error)
    }
  }

  /// Calls a server-streaming method; iterate the result for the responses.
  public func serverStreaming<Request, Response>(
    _ method: ProtoMethod<Request, Response>,
    _ request: Request,
    options: CallOptions = CallOptions()
  ) throws(RPCError) -> ResponseStream<Response> {
    var options = options
    let deadline = try effectiveDeadline(&options)
    options = try intercepted(method.path, options)
    let bytes = request.serializedBytes()
    let call = try startCall(
      method.path, options: options, deadline: deadline, onlyRequest: bytes,
      endpoint: ClientCall.init)
    return ResponseStream(call: call)
  }

  /// Calls a client-streaming method: `body` sends the requests; the response is returned.
  public func clientStreaming<Request, Response>(
    _ method: ProtoMethod<Request, Response>,
    options: CallOptions = CallOptions(),
    _ body: (MessageWriter<Request>) async throws -> Void
  ) async throws(RPCError) -> Response {
    var options = options
    let deadline = try effectiveDeadline(&options)
    options = try intercepted(method.path, options)
    let started = MonotonicInstant.now()
    do {
      let response = try await clientStreamingCall(
        method, options: options, deadline: deadline, body)
      finished(method.path, nil, since: started)
      return response
    } catch {
      finished(method.path, error, since: started)
      throw error
    }
  }

  private func clientStreamingCall<Request, Response>(
    _ method: ProtoMethod<Request, Response>,
    options: CallOptions,
    deadline: MonotonicInstant,
    _ body: (MessageWriter<Request>) async throws -> Void
  ) async throws(RPCError) -> Response {
    let call = try startCall(
      method.path, options: options, deadline: deadline, onlyRequest: nil,
      endpoint: ClientCall.init)
    let writer = MessageWriter<Request>(sendBytes: { bytes async throws(RPCError) in
      try await call.send(bytes)
    })
    do {
      try await body(writer)
    } catch {
      call.cancel(.cancelled("the caller abandoned the call"))
      throw Self.asRPCError(error)
    }
    call.halfClose()

    let data: [UInt8] = try await Self.withCancellation(of: call) { () async throws(RPCError) in
      guard let data = try await call.inbound.next() else {
        throw call.result?.error
          ?? RPCError(.internalError, "the server ended the call without a response")
      }
      _ = try await call.inbound.next()
      return data
    }
    return try Self.decode(Response.self, data)
  }

  /// Calls a bidirectional method: `body` sends requests and reads responses as it likes.
  /// When `body` returns, the requests end and the call's status is awaited.
  public func bidirectional<Request, Response>(
    _ method: ProtoMethod<Request, Response>,
    options: CallOptions = CallOptions(),
    _ body: (MessageWriter<Request>, ResponseStream<Response>) async throws -> Void
  ) async throws(RPCError) {
    var options = options
    let deadline = try effectiveDeadline(&options)
    options = try intercepted(method.path, options)
    let call = try startCall(
      method.path, options: options, deadline: deadline, onlyRequest: nil,
      endpoint: ClientCall.init)
    let writer = MessageWriter<Request>(sendBytes: { bytes async throws(RPCError) in
      try await call.send(bytes)
    })
    let responses = ResponseStream<Response>(call: call)
    do {
      try await body(writer, responses)
    } catch {
      call.cancel(.cancelled("the caller abandoned the call"))
      throw Self.asRPCError(error)
    }
    call.halfClose()
    try await Self.withCancellation(of: call) { () async throws(RPCError) in
      while try await call.inbound.next() != nil {}
    }
  }

  /// Drains every connection: calls in flight finish, then the connections close.
  public func close() {
    let slots = pool.withLock { pool -> [Slot] in
      pool.closed = true
      return pool.slots
    }
    for slot in slots {
      guard let connection = slot.connection else { continue }
      connection.loop.execute { connection.drain(reason: "the client is closing") }
    }
  }

  // MARK: Internals

  private func intercepted(_ path: String, _ options: CallOptions) throws(RPCError)
    -> CallOptions
  {
    var options = options
    for interceptor in interceptors {
      try interceptor.willStart(method: path, metadata: &options.metadata)
    }
    return options
  }

  private func finished(_ path: String, _ error: RPCError?, since start: MonotonicInstant) {
    guard !interceptors.isEmpty else { return }
    let duration = start.duration(to: .now())
    for interceptor in interceptors {
      interceptor.didFinish(method: path, error: error, duration: duration)
    }
  }

  /// The call's deadline: its timeout, or the time left on the call being served, whichever
  /// ends first. Reads the current server context once and keeps its trace id in `options`.
  private func effectiveDeadline(_ options: inout CallOptions) throws(RPCError)
    -> MonotonicInstant
  {
    let now = MonotonicInstant.now()
    var deadline = now.advanced(by: options.timeout ?? configuration.defaultTimeout)
    if let serving = ServerContext.current {
      options.inheritedTraceID = serving.traceID
      if let inherited = serving.deadline { deadline = min(deadline, inherited) }
    }
    guard deadline > now else { throw .deadlineExceeded() }
    return deadline
  }

  /// Starts a call on a connection of the pool.
  ///
  /// - Parameter onlyRequest: the call's one request, for unary and server-streaming calls: it
  ///   goes out with the start, and the client's half of the call ends with it. Nil for calls
  ///   whose caller sends the requests.
  private func startCall<Endpoint: ClientEndpoint>(
    _ path: String,
    options: CallOptions,
    deadline: MonotonicInstant,
    onlyRequest: [UInt8]?,
    endpoint: (Connection) -> Endpoint
  ) throws(RPCError) -> Endpoint {
    let connection = try pickConnection()
    if let onlyRequest {
      let limit = connection.peerMessageLimit
      guard onlyRequest.count <= limit else {
        throw .messageTooLarge(onlyRequest.count, limit: limit)
      }
    }
    let call = endpoint(connection)
    var metadata = options.metadata
    if metadata[MetadataKey.traceID] == nil {
      metadata.add(MetadataKey.traceID, options.inheritedTraceID ?? TraceID.make())
    }
    let timeout = MonotonicInstant.now().duration(to: deadline)
    let loop = connection.loop
    // A caller already on the connection's loop (a task that prefers it as its executor)
    // starts the call at once rather than through the loop's queue.
    loop.executeSoon { [metadata] in
      switch connection.startCall(
        method: path, metadata: metadata, timeout: timeout, endpoint: call,
        onlyRequest: onlyRequest)
      {
      case .success(let id):
        call.id = id
        // Alone on its connection, the call's first frames go out now rather than at the end
        // of the loop's turn: the server starts while this side arms the deadline and the
        // caller suspends. Calls sharing a connection keep sharing one write per turn.
        connection.flushIfOnlyCall(id)
        guard connection.hasCall(id) else { return }
        call.deadlineTimer = loop.scheduleTimer(at: deadline) {
          connection.cancelCall(id: id, error: .deadlineExceeded())
        }
      case .failure(let error):
        call.terminate(error, trailers: Metadata())
      }
    }
    return call
  }

  private func pickConnection() throws(RPCError) -> Connection {
    // Prefer, in turn from the round-robin position: a usable connection, then a slot not
    // avoided after a failure (to connect), then any slot. Connecting happens under the lock,
    // so concurrent first calls share one new connection instead of racing to open several.
    let now = MonotonicInstant.now()
    return try pool.withLock { pool throws(RPCError) -> Connection in
      guard !pool.closed else { throw .unavailable("the channel is closed") }
      let start = pool.counter
      pool.counter &+= 1
      let count = pool.slots.count
      for offset in 0..<count {
        let slot = pool.slots[(start + offset) % count]
        if slot.usable, let connection = slot.connection { return connection }
      }

      var index = start % count
      for offset in 0..<count where pool.slots[(start + offset) % count].avoidUntil <= now {
        index = (start + offset) % count
        break
      }
      let slot = pool.slots[index]
      let endpoint = target.endpoints[index % target.endpoints.count]
      let connection = try connect(to: endpoint, slot: slot)
      slot.connection = connection
      slot.usable = true
      return connection
    }
  }

  private func connect(to endpoint: SocketAddress, slot: Slot) throws(RPCError) -> Connection {
    let address = try Socket.resolve(endpoint)
    let descriptor = try Socket.startConnect(to: address)
    let session: TLSSession
    do {
      session = try TLSSession(
        context: tls, fileDescriptor: descriptor,
        expectedPeerIdentity: target.expectedIdentity, serverName: target.serverName)
    } catch {
      Glibc.close(descriptor)
      throw .unavailable("TLS set-up for \(endpoint) failed: \(error)")
    }

    var limits = configuration.limits
    limits.handshakeTimeout = configuration.connectTimeout
    let connection = Connection(
      loop: group.next(), descriptor: descriptor, session: session, role: .client,
      connecting: true, limits: limits, keepalive: configuration.keepalive, logger: logger,
      peerDescription: endpoint.description)
    // The callbacks run on the connection's loop, never under the pool's lock.
    let retire: @Sendable (Connection) -> Void = { [weak self] connection in
      self?.pool.withLock { _ in
        if slot.connection === connection { slot.usable = false }
      }
    }
    connection.onDrain = { connection in retire(connection) }
    connection.onClose = { [weak self, logger] connection, reason in
      retire(connection)
      if !connection.wasReady {
        self?.pool.withLock { _ in
          slot.avoidUntil = MonotonicInstant.now().advanced(by: .seconds(1))
        }
      }
      logger.debug("connection closed", ["peer": endpoint.description, "reason": reason.message])
    }
    connection.loop.execute { connection.start() }
    return connection
  }

  static func withCancellation<T>(
    of call: ClientCall, _ body: () async throws(RPCError) -> T
  ) async throws(RPCError) -> T {
    do {
      return try await withTaskCancellationHandler {
        try await body()
      } onCancel: {
        call.cancel(.cancelled())
      }
    } catch {
      throw asRPCError(error)
    }
  }

  @usableFromInline
  static func decode<Message: ProtoMessage>(
    _ type: Message.Type, _ data: [UInt8]
  ) throws(RPCError) -> Message {
    do {
      return try Message(serializedBytes: data)
    } catch {
      throw RPCError(
        .internalError, "the response is not a valid \(Message.protoMessageName): \(error)")
    }
  }

  static func asRPCError(_ error: any Error) -> RPCError {
    if let error = error as? RPCError { return error }
    if error is CancellationError { return .cancelled() }
    return RPCError(.unknown, "\(error)")
  }
}

#if canImport(Glibc)
  import Glibc
#endif
