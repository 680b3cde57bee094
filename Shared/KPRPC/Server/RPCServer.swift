public import KPLogging
import KPProtocol
public import KPTLS
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Serves methods over the binary RPC protocol on one TLS port.
///
/// Every server answers the health service and records per-method metrics. Call `start()` to
/// listen, and `shutdown(grace:)` for a graceful drain: a GOAWAY on every connection, in-flight
/// calls finishing within the grace period, then close.
public final class RPCServer: Sendable {
  /// A method this server serves, with its place in the metrics.
  private struct ServedMethod: Sendable {
    let entry: MethodTable.Entry
    let metricsSlot: Int
  }

  private struct State {
    var listener: Listener?
    var port = 0
    var connections: [ObjectIdentifier: Connection] = [:]
    var accepted = 0
    var shuttingDown = false
  }

  /// The configuration the server was made with.
  public let configuration: RPCServerConfiguration
  /// The health statuses this server reports.
  public let health: HealthStatus
  /// The per-method counters and latency histograms.
  public let metrics: RPCMetrics

  private let tls: TLSContext
  private let group: EventLoopGroup
  private let logger: Logger
  private let methods: [String: ServedMethod]
  private let interceptors: [any ServerInterceptor]
  private let state = Mutex(State())

  /// Makes a server; it does not listen until `start()`.
  ///
  /// - Parameters:
  ///   - services: the services to offer; the health service is added to them.
  ///   - interceptors: run around every call, outermost first. The server records each call's
  ///     metrics itself, timing the whole chain, before the call's status is sent.
  public init(
    configuration: RPCServerConfiguration = RPCServerConfiguration(),
    tls: TLSContext,
    services: [any RPCService],
    interceptors: [any ServerInterceptor] = [],
    group: EventLoopGroup = .shared,
    logger: Logger = .disabled
  ) {
    self.configuration = configuration
    self.tls = tls
    self.group = group
    self.logger = logger
    let health = HealthStatus()
    let metrics = RPCMetrics()
    self.health = health
    self.metrics = metrics

    var table = MethodTable()
    HealthService(status: health).register(into: &table)
    for service in services { service.register(into: &table) }
    methods = table.entries.mapValues { entry in
      ServedMethod(entry: entry, metricsSlot: metrics.slot(for: entry.path))
    }
    self.interceptors = interceptors
  }

  /// The port the server listens on (after `start()`).
  public var port: Int { state.withLock { $0.port } }

  /// The number of open connections.
  public var connectionCount: Int { state.withLock { $0.connections.count } }

  /// The number of connections accepted since the server started.
  public var acceptedConnectionCount: Int { state.withLock { $0.accepted } }

  /// Starts listening.
  public func start() throws(RPCError) {
    let listener = try Listener.start(on: configuration.address, loop: group.loops[0]) {
      [weak self] descriptor in
      if let self { self.accepted(descriptor) } else { close(descriptor) }
    }
    let port = listener.port
    state.withLock {
      $0.listener = listener
      $0.port = port
    }
    logger.info("listening", ["address": "\(configuration.address.host):\(port)"])
  }

  /// Drains and closes: stops accepting, sends GOAWAY, lets in-flight calls finish for up to
  /// `grace`, then closes what remains.
  public func shutdown(grace: Duration? = nil) async {
    let grace = grace ?? configuration.shutdownGracePeriod
    health.setAll(.notServing)
    health.endWatches()
    let (listener, connections) = state.withLock { state in
      state.shuttingDown = true
      defer { state.listener = nil }
      return (state.listener, Array(state.connections.values))
    }

    listener?.close()
    for connection in connections {
      connection.loop.execute { connection.drain(reason: "the server is shutting down") }
    }

    let deadline = MonotonicInstant.now().advanced(by: grace)
    while connectionCount > 0 && MonotonicInstant.now() < deadline {
      try? await Task.sleep(for: .milliseconds(5))
    }

    let remaining = state.withLock { Array($0.connections.values) }
    for connection in remaining {
      connection.loop.execute {
        connection.terminate(.unavailable("the server shut down before the call finished"))
      }
    }
    while connectionCount > 0 {
      try? await Task.sleep(for: .milliseconds(2))
    }
  }

  // MARK: Connections

  fileprivate func accepted(_ descriptor: Int32) {
    let admitted = state.withLock { state -> Bool in
      !state.shuttingDown && state.connections.count < configuration.maximumConnections
    }
    guard admitted else {
      close(descriptor)
      logger.warning("connection refused", ["reason": "connection limit or shutdown"])
      return
    }

    let loop = group.next()
    loop.execute { [self] in
      let session: TLSSession
      do {
        session = try TLSSession(
          context: tls, fileDescriptor: descriptor, expectedPeerIdentity: nil, serverName: nil)
      } catch {
        close(descriptor)
        logger.error("tls session setup failed", ["error": "\(error)"])
        return
      }
      let connection = Connection(
        loop: loop, descriptor: descriptor, session: session, role: .server, connecting: false,
        limits: configuration.limits, keepalive: configuration.keepalive, logger: logger,
        peerDescription: Socket.peerAddress(descriptor)?.description ?? "an unknown peer")
      connection.openCall = { [weak self] connection, id, start in
        guard let self else { return .failure(.unavailable("the server is gone")) }
        return self.openCall(connection: connection, id: id, start: start)
      }
      connection.onClose = { [weak self] connection, _ in
        _ = self?.state.withLock { $0.connections[ObjectIdentifier(connection)] = nil }
      }
      state.withLock {
        $0.connections[ObjectIdentifier(connection)] = connection
        $0.accepted += 1
      }
      connection.start()
    }
  }

  private func openCall(
    connection: Connection, id: UInt64, start: Kp_Wire_V1_CallStart
  ) -> Result<any CallEndpoint, RPCError> {
    guard let served = methods[start.method] else {
      metrics.record(method: start.method, code: .unimplemented, seconds: 0, known: false)
      return .failure(RPCError(.unimplemented, "method \(start.method) is not implemented"))
    }
    let entry = served.entry
    guard entry.policy.admits(connection.peerIdentity) else {
      let caller = connection.peerIdentity?.primary ?? "an unauthenticated caller"
      let refusal = RPCError(.permissionDenied, "\(caller) may not call \(start.method)")
      metrics.record(slot: served.metricsSlot, outcome: refusal, elapsed: .zero)
      return .failure(refusal)
    }

    let metadata = Metadata(wire: start.metadata)
    let deadline =
      start.timeoutMicros > 0
      ? MonotonicInstant.now().advanced(by: .microseconds(Int64(clamping: start.timeoutMicros)))
      : nil
    let context = ServerContext(
      method: start.method, metadata: metadata, peer: connection.peerIdentity,
      deadline: deadline, traceID: metadata[MetadataKey.traceID] ?? TraceID.make())

    switch entry.handler {
    case .unary(let handler):
      return .success(
        unaryCall(
          connection: connection, id: id, context: context, deadline: deadline,
          metricsSlot: served.metricsSlot, handler: handler))
    case .streaming(let run):
      return .success(
        streamingCall(
          connection: connection, id: id, context: context, deadline: deadline,
          metricsSlot: served.metricsSlot, run: run))
    }
  }

  private func unaryCall(
    connection: Connection, id: UInt64, context: ServerContext, deadline: MonotonicInstant?,
    metricsSlot: Int, handler: @escaping @Sendable ([UInt8], ServerContext) async throws -> [UInt8]
  ) -> ServerUnaryCall {
    let chain = interceptors
    let logger = logger
    let metrics = metrics
    let call = ServerUnaryCall(id: id, connection: connection) { call, request, extra in
      let serve: @Sendable () async -> Void = {
        let started = MonotonicInstant.now()
        let outcome = await Self.outcome(of: context, chain, logger) { context in
          guard let request else {
            throw RPCError(.invalidArgument, "the call ended without a request message")
          }
          guard !extra else {
            throw RPCError(.invalidArgument, "a unary call carried more than one request message")
          }
          call.response = try await handler(request, context)
        }
        // Recorded before the status goes out, so a caller that has its answer sees it counted.
        let elapsed = started.duration(to: .now())
        metrics.record(slot: metricsSlot, outcome: outcome, elapsed: elapsed)
        call.finish(outcome)
      }
      // The handler starts at once, on the loop's thread, and runs until it first waits: a
      // handler that answers without waiting sends its status before the loop reads on. A call
      // whose deadline is all but spent has its timer armed already, and the loop runs due
      // timers before queued work, so its handler waits its turn as a task of its own.
      guard call.deadlineTimer == nil else {
        return Task(executorPreference: call.connection.loop) { await serve() }
      }
      return Task.immediate(executorPreference: call.connection.loop) { await serve() }
    }
    if let deadline { call.armDeadline(at: deadline) }
    return call
  }

  private func streamingCall(
    connection: Connection, id: UInt64, context: ServerContext, deadline: MonotonicInstant?,
    metricsSlot: Int,
    run: @escaping @Sendable (MethodTable.CallIO, ServerContext) async throws -> Void
  ) -> ServerCall {
    let call = ServerCall(id: id, connection: connection)
    if let deadline {
      call.deadlineTimer = connection.loop.scheduleTimer(at: deadline) { [call] in
        call.deadlineExpired()
      }
    }
    let io = MethodTable.CallIO(
      next: { () async throws(RPCError) -> [UInt8]? in try await call.inbound.next() },
      send: { (bytes: [UInt8]) async throws(RPCError) in try await call.send(bytes) })
    let chain = interceptors
    let logger = logger
    let metrics = metrics
    call.task = Task(executorPreference: connection.loop) {
      let started = MonotonicInstant.now()
      let outcome = await Self.outcome(of: context, chain, logger) { context in
        try await run(io, context)
      }
      metrics.record(slot: metricsSlot, outcome: outcome, elapsed: started.duration(to: .now()))
      call.finish(outcome)
    }
    return call
  }

  /// Runs a handler inside the interceptors with the call's context as the current one;
  /// returns how it ended (nil for OK), with unexpected errors logged and hidden.
  private static func outcome(
    of context: ServerContext, _ chain: [any ServerInterceptor], _ logger: Logger,
    _ handler: @escaping @Sendable (ServerContext) async throws -> Void
  ) async -> RPCError? {
    do {
      try await ServerContext.$current.withValue(context) {
        try await run(chain[...], context: context, handler: handler)
      }
      return nil
    } catch let error as RPCError {
      return error
    } catch is CancellationError {
      return .cancelled()
    } catch {
      logger.error(
        "handler failed",
        ["method": context.method, "trace_id": context.traceID, "error": "\(type(of: error))"])
      return RPCError(.internalError, "the server failed to handle the call")
    }
  }

  private static func run(
    _ interceptors: ArraySlice<any ServerInterceptor>,
    context: ServerContext,
    handler: @escaping @Sendable (ServerContext) async throws -> Void
  ) async throws {
    guard let first = interceptors.first else {
      try await handler(context)
      return
    }
    let rest = interceptors.dropFirst()
    try await first.intercept(context) { context in
      try await run(rest, context: context, handler: handler)
    }
  }
}
