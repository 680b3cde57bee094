import CSystem
import KPLogging
import KPRPC
import KPTLS

#if canImport(Glibc)
  import Glibc
#endif

/// One client's TLS connection, driven by one event loop.
///
/// All state is touched only on the loop's thread. Bytes go through TLS into the pure
/// ``HTTPRequestParser``; each complete request runs the handler in a task that prefers this
/// loop, and its response is written before the next request is parsed, so responses leave in
/// request order. Pipelined requests wait as unparsed bytes; when too many wait, reading
/// pauses. Every phase has a timer: the handshake, the arrival of a request, an idle
/// keep-alive connection, a response the client does not read, and the linger after close.
final class HTTPConnection: EventLoopHandler, @unchecked Sendable {
  /// The application's request handler.
  typealias Handler = @Sendable (HTTPRequest) async -> HTTPResponse

  private enum Phase { case handshaking, open, lingering, closed }

  /// Where the connection is in its current request and response.
  private enum Exchange { case idle, receiving, handling, responding }

  /// What the response being written needs to know about its request.
  private struct Pending {
    var method: HTTPMethod?
    var requestID: String
    var isKeepAliveHTTP10: Bool
  }

  /// How long a closing connection keeps reading and discarding what the client still sends,
  /// so the client reads the last response instead of a reset.
  private static let lingerTime: Duration = .seconds(2)
  /// The most a closing connection reads and discards.
  private static let lingerBytes = 1024 * 1024

  let loop: EventLoop
  private let descriptor: Int32
  private let session: TLSSession
  private let limits: HTTPServerLimits
  private let logger: Logger
  private let remoteAddress: SocketAddress?
  private let handler: Handler
  private let parser: HTTPRequestParser

  private var phase = Phase.handshaking
  private var exchange = Exchange.idle
  private var input: [UInt8] = []
  private var inputOffset = 0
  private var output: [UInt8] = []
  private var outputOffset = 0
  private var watchedEvents: UInt32 = 0
  private var writeBlocked = false
  private var readingPaused = false
  private var inputEnded = false
  private var closeAfterResponse = false
  private var draining = false
  private var requestCount = 0
  private var discardedBytes = 0
  private var pending: Pending?
  private var handlerTask: Task<Void, Never>?
  private var handshakeTimer: ScheduledTimer?
  private var requestTimer: ScheduledTimer?
  private var idleTimer: ScheduledTimer?
  private var writeTimer: ScheduledTimer?
  private var lingerTimer: ScheduledTimer?

  /// Called once, on the loop, when the connection has closed.
  var onClose: ((HTTPConnection) -> Void)?
  private let onRefusal: HTTPServer.RefusalObserver?

  init(
    loop: EventLoop, descriptor: Int32, session: TLSSession, limits: HTTPServerLimits,
    remoteAddress: SocketAddress?, logger: Logger, onRefusal: HTTPServer.RefusalObserver? = nil,
    handler: @escaping Handler
  ) {
    self.onRefusal = onRefusal
    self.loop = loop
    self.descriptor = descriptor
    self.session = session
    self.limits = limits
    self.remoteAddress = remoteAddress
    self.logger = logger
    self.handler = handler
    self.parser = HTTPRequestParser(limits: limits)
  }

  /// Unparsed input held while a request is handled; beyond it, reading pauses.
  private var maximumBufferedInput: Int { max(limits.maximumHeaderSize, 64 * 1024) }

  private var remoteField: [String: String] {
    ["remote": remoteAddress?.description ?? "unknown"]
  }

  /// Registers with the loop and starts the TLS handshake. Call on the loop.
  func start() {
    watchedEvents = EPOLLIN.rawValue
    guard loop.register(descriptor, events: watchedEvents, handler: self) else {
      Glibc.close(descriptor)
      phase = .closed
      onClose?(self)
      onClose = nil
      return
    }
    handshakeTimer = loop.scheduleTimer(after: limits.handshakeTimeout) { [weak self] in
      guard let self, self.phase == .handshaking else { return }
      self.logger.debug("tls handshake timed out", self.remoteField)
      self.terminate()
    }
    continueHandshake()
  }

  // MARK: Events

  func handleEvents(_ events: UInt32) {
    switch phase {
    case .handshaking:
      continueHandshake()
    case .open:
      if events & EPOLLOUT.rawValue != 0 {
        writeBlocked = false
        flush()
      }
      guard phase == .open else { return }
      let failed = events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0
      if failed && (readingPaused || inputEnded) {
        // Nothing will be read, and the peer is gone: no response can reach it.
        terminate()
      } else if failed || events & (EPOLLIN.rawValue | EPOLLOUT.rawValue) != 0 {
        // Writable too: a TLS read that had to write first (a key update) resumes here.
        readAvailable()
      }
    case .lingering:
      discardInput()
    case .closed:
      break
    }
  }

  private func continueHandshake() {
    switch session.handshake() {
    case .ok:
      phase = .open
      handshakeTimer?.cancel()
      handshakeTimer = nil
      updateInterest()
      startIdleTimer()
      readAvailable()
    case .wantRead:
      setInterest(EPOLLIN.rawValue)
    case .wantWrite:
      setInterest(EPOLLIN.rawValue | EPOLLOUT.rawValue)
    case .closed:
      terminate()
    case .failed(let error):
      logger.debug(
        "tls handshake failed", remoteField.merging(["error": error.message]) { $1 })
      terminate()
    }
  }

  // MARK: Reading

  private func readAvailable() {
    let buffer = loop.readBuffer
    for _ in 0..<16 {
      guard phase == .open, !readingPaused, !inputEnded else { return }
      switch session.read(into: buffer) {
      case .ok(let count):
        input.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        processInput()
        // A short read with nothing left in OpenSSL drained the socket; epoll says when
        // more arrives.
        if count < buffer.count && !session.hasBufferedInput { return }
      case .wantRead:
        return
      case .wantWrite:
        setInterest(watchedEvents | EPOLLOUT.rawValue)
        return
      case .closed:
        peerEndedInput()
        return
      case .failed(let error):
        logger.debug("connection failed", remoteField.merging(["error": error.message]) { $1 })
        terminate()
        return
      }
    }
    // Yield to other connections; come back for what is left.
    loop.execute { [self] in readAvailable() }
  }

  private func peerEndedInput() {
    inputEnded = true
    switch exchange {
    case .idle, .receiving:
      terminate()
    case .handling, .responding:
      closeAfterResponse = true
      updateInterest()
    }
  }

  private func processInput() {
    while phase == .open && inputOffset < input.count {
      switch exchange {
      case .idle:
        beginReceiving()
      case .receiving:
        break
      case .handling, .responding:
        if input.count - inputOffset > maximumBufferedInput && !readingPaused {
          readingPaused = true
          updateInterest()
        }
        compactInput()
        return
      }

      let (consumed, outcome) = input.withUnsafeBytes { raw in
        parser.parse(UnsafeRawBufferPointer(rebasing: raw[inputOffset...]))
      }
      inputOffset += consumed
      switch outcome {
      case .needMore:
        break
      case .head(let head):
        if head.expectsContinue {
          output.append(contentsOf: HTTPResponseEncoder.continueBytes)
          flush()
        }
      case .message(let message):
        dispatch(message)
      case .failure(let error):
        reject(error)
        return
      }
    }
    compactInput()
  }

  private func compactInput() {
    if inputOffset == input.count {
      input.removeAll(keepingCapacity: input.capacity <= 64 * 1024)
      inputOffset = 0
    } else if inputOffset > 0 && inputOffset >= input.count / 2 {
      input.removeFirst(inputOffset)
      inputOffset = 0
    }
  }

  private func beginReceiving() {
    exchange = .receiving
    idleTimer?.cancel()
    idleTimer = nil
    requestTimer = loop.scheduleTimer(after: limits.requestTimeout) { [weak self] in
      guard let self, self.phase == .open, self.exchange == .receiving else { return }
      self.reject(
        HTTPError(
          .requestTimeout, status: .requestTimeout,
          "the request did not arrive within \(self.limits.requestTimeout)"))
    }
  }

  // MARK: Requests

  private func dispatch(_ message: HTTPRequestParser.Message) {
    requestTimer?.cancel()
    requestTimer = nil
    exchange = .handling
    requestCount += 1

    let head = message.head
    let parts = HTTPRequestTarget(head.target, isConnect: head.method.rawValue == "CONNECT")
    guard parts.isValid else {
      reject(.badRequest("the request target is not a valid URL"))
      return
    }
    let request = HTTPRequest(
      method: head.method, target: head.target, parts: parts, headers: head.headers,
      body: message.body, remoteAddress: remoteAddress)

    let keepAlive =
      message.keepAlive && !message.upgrade && !draining
      && requestCount < limits.maximumRequestsPerConnection
    if !keepAlive {
      closeAfterResponse = true
      readingPaused = true
      updateInterest()
    }
    pending = Pending(
      method: head.method, requestID: request.requestID,
      isKeepAliveHTTP10: keepAlive && head.versionMajor == 1 && head.versionMinor == 0)

    let handler = handler
    handlerTask = Task(executorPreference: loop) { [self] in
      let response = await handler(request)
      loop.executeSoon { self.respond(response) }
    }
  }

  private func respond(_ response: HTTPResponse) {
    guard phase == .open, exchange == .handling, let pending else { return }
    handlerTask = nil
    exchange = .responding
    closeAfterResponse = closeAfterResponse || draining
    let framing = HTTPResponseEncoder.Framing(
      requestMethod: pending.method, requestID: pending.requestID, closes: closeAfterResponse,
      isKeepAliveHTTP10: pending.isKeepAliveHTTP10 && !closeAfterResponse)
    output.append(contentsOf: HTTPResponseEncoder.encode(response, framing: framing))
    flush()
  }

  /// Answers a request the server refuses with the error body, then closes.
  private func reject(_ error: HTTPError) {
    requestTimer?.cancel()
    requestTimer = nil
    exchange = .responding
    closeAfterResponse = true
    readingPaused = true
    let requestID = TraceID.make()
    logger.debug(
      "request refused",
      remoteField.merging([
        "request_id": requestID, "code": error.code.rawValue, "status": "\(error.status.code)",
      ]) { $1 })
    onRefusal?(error, requestID)
    let framing = HTTPResponseEncoder.Framing(
      requestMethod: nil, requestID: requestID, closes: true)
    output.append(
      contentsOf: HTTPResponseEncoder.encode(
        HTTPResponse(error: error, requestID: requestID), framing: framing))
    updateInterest()
    flush()
  }

  private func responseSent() {
    exchange = .idle
    pending = nil
    if closeAfterResponse || draining || inputEnded {
      closeGracefully()
      return
    }
    readingPaused = false
    updateInterest()
    processInput()
    guard phase == .open else { return }
    if exchange == .idle { startIdleTimer() }
    readAvailable()
  }

  // MARK: Writing

  private func flush() {
    guard phase == .open, !writeBlocked else { return }
    while outputOffset < output.count {
      let result = output.withUnsafeBytes { bytes in
        session.write(UnsafeRawBufferPointer(rebasing: bytes[outputOffset...]))
      }
      switch result {
      case .ok(let count):
        outputOffset += count
      case .wantWrite, .wantRead:
        writeBlocked = true
        startWriteTimer()
        updateInterest()
        return
      case .closed, .failed:
        terminate()
        return
      }
    }
    output.removeAll(keepingCapacity: output.capacity <= 64 * 1024)
    outputOffset = 0
    writeTimer?.cancel()
    writeTimer = nil
    updateInterest()
    if exchange == .responding { responseSent() }
  }

  private func updateInterest() {
    var events: UInt32 = 0
    if !readingPaused && !inputEnded { events |= EPOLLIN.rawValue }
    if writeBlocked { events |= EPOLLOUT.rawValue }
    setInterest(events)
  }

  private func setInterest(_ events: UInt32) {
    guard events != watchedEvents, phase != .closed else { return }
    watchedEvents = events
    loop.modify(descriptor, events: events)
  }

  // MARK: Timers

  private func startIdleTimer() {
    idleTimer?.cancel()
    idleTimer = loop.scheduleTimer(after: limits.idleTimeout) { [weak self] in
      guard let self, self.phase == .open, self.exchange == .idle else { return }
      self.logger.trace("idle connection closed", self.remoteField)
      self.closeGracefully()
    }
  }

  private func startWriteTimer() {
    guard writeTimer == nil else { return }
    writeTimer = loop.scheduleTimer(after: limits.writeTimeout) { [weak self] in
      guard let self, self.phase == .open else { return }
      self.logger.debug("client stopped reading", self.remoteField)
      self.terminate()
    }
  }

  // MARK: Closing

  /// Begins a graceful drain: an idle connection closes now, one with a request in progress
  /// closes after its response. Call on the loop.
  func drain() {
    draining = true
    switch phase {
    case .handshaking:
      terminate()
    case .open where exchange == .idle:
      closeGracefully()
    case .open, .lingering, .closed:
      break
    }
  }

  /// Sends close_notify and a FIN, then reads and drops what the client still sends for a
  /// short while, so the last response is not lost to a reset.
  private func closeGracefully() {
    guard phase == .open else { return }
    phase = .lingering
    for timer in [requestTimer, idleTimer, writeTimer] { timer?.cancel() }
    session.shutdown()
    Glibc.shutdown(descriptor, Int32(SHUT_WR))
    watchedEvents = EPOLLIN.rawValue
    loop.modify(descriptor, events: watchedEvents)
    lingerTimer = loop.scheduleTimer(after: Self.lingerTime) { [weak self] in
      self?.terminate()
    }
    discardInput()
  }

  private func discardInput() {
    let buffer = loop.readBuffer
    while phase == .lingering {
      let count = recv(descriptor, buffer.baseAddress, buffer.count, 0)
      if count > 0 {
        discardedBytes += count
        if discardedBytes > Self.lingerBytes { terminate() }
        continue
      }
      let code = kp_errno()
      if count < 0 && code == EINTR { continue }
      if count < 0 && (code == EAGAIN || code == EWOULDBLOCK) { return }
      terminate()
    }
  }

  /// Closes at once; a running handler is cancelled. Call on the loop.
  func terminate() {
    guard phase != .closed else { return }
    phase = .closed
    for timer in [handshakeTimer, requestTimer, idleTimer, writeTimer, lingerTimer] {
      timer?.cancel()
    }
    handlerTask?.cancel()
    handlerTask = nil
    loop.deregister(descriptor)
    Glibc.close(descriptor)
    input = []
    output = []
    let callback = onClose
    onClose = nil
    callback?(self)
  }
}
