public import KPLogging
public import KPRPC
public import KPTLS
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Serves HTTP/1.1 over TLS on the event loops.
///
/// Requests are parsed by http-parser; connections stay open between requests (keep-alive);
/// requests on one connection are answered in order, pipelined ones waiting their turn. Each
/// request runs `handler` in a task that prefers its connection's event loop. The limits in
/// ``HTTPServerConfiguration/limits`` bound what a client may send and how long it may take.
///
/// ```swift
/// let server = HTTPServer(tls: context) { request in
///   HTTPResponse(text: "hello")
/// }
/// try server.start()
/// // ...
/// await server.shutdown()
/// ```
///
/// Call ``TLSRuntime/ignoreSIGPIPE()`` once at start-up; ``start()`` does it too.
public final class HTTPServer: Sendable {
  /// The application's request handler.
  public typealias Handler = @Sendable (HTTPRequest) async -> HTTPResponse
  /// Told of each request the server answers itself with an error before any handler sees it
  /// (a header block, URL or body over its limit, a request that did not arrive in time,
  /// malformed HTTP), with the error and the request id the answer carries.
  public typealias RefusalObserver = @Sendable (HTTPError, _ requestID: String) -> Void

  private struct State {
    var listener: Listener?
    var port = 0
    var openConnections = 0
    var connections: [ObjectIdentifier: HTTPConnection] = [:]
    var shuttingDown = false
    var refusedConnections = 0
  }

  /// The configuration the server was made with.
  public let configuration: HTTPServerConfiguration

  private let tls: TLSContext
  private let group: EventLoopGroup
  private let logger: Logger
  private let handler: Handler
  private let onRefusal: RefusalObserver?
  private let state = Mutex(State())

  /// Makes a server; it does not listen until ``start()``.
  ///
  /// - Parameters:
  ///   - configuration: Where to listen and the limits; default as documented there.
  ///   - tls: A server context, such as
  ///     `TLSConfiguration.externalServer(certificateChain:privateKey:)`. Offer ALPN
  ///     `http/1.1` on it (set `alpnProtocols`) so clients that ask for it get it.
  ///   - group: The event loops connections are spread across; default the shared group.
  ///   - logger: Where connection events go (at debug level); default silent. Request
  ///     bodies and header values are never logged.
  ///   - onRefusal: Told of each request the server refuses itself, for access logs and
  ///     metrics; default none.
  ///   - handler: Answers each request.
  public init(
    configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
    tls: TLSContext,
    group: EventLoopGroup = .shared,
    logger: Logger = .disabled,
    onRefusal: RefusalObserver? = nil,
    handler: @escaping Handler
  ) {
    self.configuration = configuration
    self.tls = tls
    self.group = group
    self.logger = logger
    self.onRefusal = onRefusal
    self.handler = handler
  }

  /// The port the server listens on, after ``start()``.
  public var port: Int { state.withLock { $0.port } }

  /// The number of open connections, handshakes included.
  public var connectionCount: Int { state.withLock { $0.openConnections } }

  /// The number of connections closed on arrival because of the connection limit or a
  /// shutdown.
  public var refusedConnectionCount: Int { state.withLock { $0.refusedConnections } }

  /// Starts listening.
  ///
  /// - Throws: ``HTTPError`` `UNAVAILABLE` when the TLS context is not a server's or the
  ///   address cannot be listened on.
  public func start() throws(HTTPError) {
    guard tls.configuration.role == .server else {
      throw HTTPError(
        .unavailable, status: .serviceUnavailable, "the HTTPS server needs a server TLS context")
    }
    TLSRuntime.ignoreSIGPIPE()
    let listener: Listener
    do {
      listener = try Listener.start(on: configuration.address, loop: group.loops[0]) {
        [weak self] descriptor in
        if let self { self.accepted(descriptor) } else { close(descriptor) }
      }
    } catch {
      throw HTTPError(
        .unavailable, status: .serviceUnavailable,
        "cannot listen on \(configuration.address): \(error.message)", cause: error)
    }
    let port = listener.port
    state.withLock {
      $0.listener = listener
      $0.port = port
    }
    logger.info("listening", ["address": "\(configuration.address.host):\(port)"])
  }

  /// Stops gracefully: no new connections; idle keep-alive connections close at once;
  /// requests in progress finish (their responses say `Connection: close`) for up to
  /// `grace`; then whatever remains is closed and its handlers cancelled.
  ///
  /// - Parameter grace: How long requests in progress may take; default
  ///   ``HTTPServerConfiguration/shutdownGracePeriod``.
  public func shutdown(grace: Duration? = nil) async {
    let grace = grace ?? configuration.shutdownGracePeriod
    let (listener, connections) = state.withLock { state in
      state.shuttingDown = true
      defer { state.listener = nil }
      return (state.listener, Array(state.connections.values))
    }
    listener?.close()
    for connection in connections {
      connection.loop.execute { connection.drain() }
    }

    let deadline = MonotonicInstant.now().advanced(by: grace)
    while connectionCount > 0 && MonotonicInstant.now() < deadline {
      try? await Task.sleep(for: .milliseconds(5))
    }
    let remaining = state.withLock { Array($0.connections.values) }
    for connection in remaining {
      connection.loop.execute { connection.terminate() }
    }
    let hardDeadline = MonotonicInstant.now().advanced(by: .seconds(5))
    while connectionCount > 0 && MonotonicInstant.now() < hardDeadline {
      try? await Task.sleep(for: .milliseconds(2))
    }
    logger.info("stopped", ["abandoned": "\(remaining.count)"])
  }

  // MARK: Connections

  /// Takes a newly accepted socket: refuses it over the limit, otherwise starts TLS on the
  /// next loop. Called on the listener's loop.
  func accepted(_ descriptor: Int32) {
    let limit = configuration.limits.maximumConnections
    let admitted = state.withLock { state -> Bool in
      guard !state.shuttingDown, state.openConnections < limit else {
        state.refusedConnections += 1
        return false
      }
      state.openConnections += 1
      return true
    }
    guard admitted else {
      close(descriptor)
      logger.debug("connection refused", ["reason": "connection limit or shutdown"])
      return
    }

    let remoteAddress = Socket.peerAddress(descriptor)
    let loop = group.next()
    loop.execute { [self] in
      let session: TLSSession
      do {
        session = try TLSSession(
          context: tls, fileDescriptor: descriptor, expectedPeerIdentity: nil, serverName: nil)
      } catch {
        close(descriptor)
        state.withLock { $0.openConnections -= 1 }
        logger.error("tls session setup failed", ["error": "\(error)"])
        return
      }
      let connection = HTTPConnection(
        loop: loop, descriptor: descriptor, session: session, limits: configuration.limits,
        remoteAddress: remoteAddress, logger: logger, onRefusal: onRefusal, handler: handler)
      connection.onClose = { [weak self] connection in
        self?.state.withLock {
          $0.connections[ObjectIdentifier(connection)] = nil
          $0.openConnections -= 1
        }
      }
      let draining = state.withLock { state -> Bool in
        state.connections[ObjectIdentifier(connection)] = connection
        return state.shuttingDown
      }
      connection.start()
      if draining { connection.drain() }
    }
  }
}
