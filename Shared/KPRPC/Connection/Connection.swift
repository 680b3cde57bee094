import CSystem
import KPLogging
import KPProtocol
import KPTLS
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// One TLS connection carrying many calls, driven by one event loop.
///
/// All state is touched only on the loop's thread. Frames are decoded into envelopes, fed to
/// the pure `ConnectionStateMachine`, and its actions carried out here. Output is buffered and
/// written once per loop turn, so many small frames share one TLS record; the one call open on
/// a connection writes at once instead (`sendStatus(flushIfIdle:)`, `flushIfOnlyCall`), since
/// no other frames could join it.
final class Connection: EventLoopHandler, EventLoopFlushable, @unchecked Sendable {
  enum Phase: Equatable { case connecting, handshaking, established, closed }

  let loop: EventLoop
  let descriptor: Int32
  let session: TLSSession
  let role: ConnectionStateMachine.Role
  let limits: ConnectionLimits
  let keepalive: KeepalivePolicy
  let logger: Logger
  /// The peer's address, for logs.
  let peerDescription: String

  private(set) var phase: Phase
  private(set) var machine: ConnectionStateMachine
  private(set) var peerIdentity: PeerIdentity?
  private var decoder: FrameDecoder
  private var receivedEnvelopes: [Kp_Wire_V1_Envelope] = []
  private var pendingActions: [ConnectionStateMachine.Action] = []
  private var outbound: [UInt8] = []
  private var outboundOffset = 0
  private var flushScheduled = false
  private var watchedEvents: UInt32 = 0
  private var writeBlocked = false
  private var closeAfterFlush: RPCError?
  private var calls: [UInt64: any CallEndpoint] = [:]
  private var handshakeTimer: ScheduledTimer?
  private var idleTimer: ScheduledTimer?
  private var keepaliveTimer: ScheduledTimer?
  private var pongTimer: ScheduledTimer?
  private var forceCloseTimer: ScheduledTimer?
  private var lastReceived = MonotonicInstant.now()
  private var lingerOnClose = false
  private var lingering = false
  private var lingerTimer: ScheduledTimer?
  private var idleSince = MonotonicInstant.now()
  private var pingCounter: UInt64 = 0
  /// How many frames of the current read are still to be handled: a status sent while more
  /// are waiting joins their answers in one write at the end of the loop's turn.
  private var framesLeftInRead = 0

  /// Server: opens calls the state machine accepted.
  var openCall: ((Connection, UInt64, Kp_Wire_V1_CallStart) -> Result<any CallEndpoint, RPCError>)?
  /// Called once when the connection closes, with the reason.
  var onClose: ((Connection, RPCError) -> Void)?
  /// Called when the peer sends a GOAWAY or this side begins draining.
  var onDrain: ((Connection) -> Void)?

  init(
    loop: EventLoop, descriptor: Int32, session: TLSSession, role: ConnectionStateMachine.Role,
    connecting: Bool, limits: ConnectionLimits, keepalive: KeepalivePolicy, logger: Logger,
    peerDescription: String
  ) {
    self.loop = loop
    self.descriptor = descriptor
    self.session = session
    self.role = role
    self.limits = limits
    self.keepalive = keepalive
    self.logger = logger
    self.peerDescription = peerDescription
    self.phase = connecting ? .connecting : .handshaking
    self.machine = ConnectionStateMachine(role: role, limits: limits)
    self.decoder = FrameDecoder(maximumFrameSize: limits.maximumFrameSize)
  }

  /// Registers with the loop and starts connecting or handshaking. Call on the loop.
  func start() {
    watchedEvents = phase == .connecting ? EPOLLOUT.rawValue : EPOLLIN.rawValue
    guard loop.register(descriptor, events: watchedEvents, handler: self) else {
      Glibc.close(descriptor)
      phase = .closed
      onClose?(self, Socket.failure("epoll registration"))
      return
    }
    handshakeTimer = loop.scheduleTimer(after: limits.handshakeTimeout) { [weak self] in
      guard let self, self.phase != .closed, !self.isReady else { return }
      self.terminate(.unavailable("the TLS handshake and settings exchange timed out"))
    }
    if phase == .handshaking { continueHandshake() }
  }

  /// Whether the connection ever became ready for calls.
  private(set) var wasReady = false

  /// The largest message the peer accepts in one frame, less the envelope's overhead; the
  /// default until the peer's settings arrive. Read from any thread.
  var peerMessageLimit: Int { peerMessageLimitStorage.load(ordering: .relaxed) }
  private let peerMessageLimitStorage = Atomic<Int>(
    ConnectionLimits().maximumFrameSize - Connection.envelopeOverhead)

  /// Bytes an envelope adds around a payload: call id, frame kind and payload field headers, with
  /// room for an OK status that carries the payload as its last message (29 bytes at most).
  static let envelopeOverhead = 32

  /// Whether settings have been exchanged and calls may flow.
  var isReady: Bool { phase == .established && machine.state != .awaitingSettings }

  /// Whether a new call may start here.
  var acceptsNewCalls: Bool {
    phase != .closed && machine.acceptsNewCalls && closeAfterFlush == nil
  }

  // MARK: Events

  func handleEvents(_ events: UInt32) {
    if lingering {
      drainWhileLingering()
      return
    }
    if phase == .connecting {
      finishConnecting()
      return
    }
    if phase == .handshaking {
      continueHandshake()
      return
    }
    if events & EPOLLOUT.rawValue != 0 {
      writeBlocked = false
      flush()
    }
    if events & (EPOLLIN.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
      readAvailable()
    }
  }

  private func finishConnecting() {
    let error = Socket.pendingError(descriptor)
    guard error == 0 else {
      terminate(Socket.failure("connect to \(peerDescription)", error))
      return
    }
    phase = .handshaking
    continueHandshake()
  }

  private func continueHandshake() {
    switch session.handshake() {
    case .ok:
      phase = .established
      peerIdentity = session.peerIdentity
      // Settings go first, ahead of any call a client queued while the handshake ran.
      var settings: [UInt8] = []
      EnvelopeCodec.append(machine.localSettingsFrame(), to: &settings)
      outbound.insert(contentsOf: settings, at: outboundOffset)
      updateInterest()
      flush()
      readAvailable()
    case .wantRead:
      setInterest(EPOLLIN.rawValue)
    case .wantWrite:
      setInterest(EPOLLIN.rawValue | EPOLLOUT.rawValue)
    case .closed:
      terminate(.unavailable("the peer closed the connection during the TLS handshake"))
    case .failed(let error):
      logger.debug("tls handshake failed", ["peer": peerDescription, "error": error.message])
      terminate(.unavailable("TLS handshake with \(peerDescription) failed: \(error.message)"))
    }
  }

  // MARK: Reading

  private func readAvailable() {
    let buffer = loop.readBuffer
    while phase == .established {
      switch session.read(into: buffer) {
      case .ok(let count):
        lastReceived = MonotonicInstant.now()
        decoder.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        processFrames()
        // A short read with nothing buffered in OpenSSL drained the socket: the loop's
        // level-triggered readiness brings us back when more arrives, so skip the read that
        // would only say "try again".
        if count < buffer.count && !session.hasBufferedInput { return }
      case .wantRead:
        return
      case .wantWrite:
        setInterest(EPOLLIN.rawValue | EPOLLOUT.rawValue)
        return
      case .closed:
        terminate(.unavailable("the peer closed the connection"))
        return
      case .failed(let error):
        terminate(.unavailable("the connection failed: \(error.message)"))
        return
      }
    }
  }

  private func processFrames() {
    // The array is kept between reads, so a read does not allocate one.
    var envelopes = receivedEnvelopes
    receivedEnvelopes = []
    defer {
      envelopes.removeAll(keepingCapacity: envelopes.capacity <= 64)
      receivedEnvelopes = envelopes
    }
    do {
      while try decoder.nextFrame({ bytes in envelopes.append(try EnvelopeCodec.decode(bytes)) }) {
      }
    } catch let error as FrameError {
      for envelope in envelopes { handle(envelope) }
      protocolFailure(error.message)
      return
    } catch {
      protocolFailure("\(error)")
      return
    }
    for (index, envelope) in envelopes.enumerated() where phase == .established {
      framesLeftInRead = envelopes.count - index - 1
      handle(envelope)
    }
    framesLeftInRead = 0
  }

  private func protocolFailure(_ message: String) {
    logger.warning("protocol error", ["peer": peerDescription, "error": message])
    let error = RPCError(.internalError, message)
    var goAway = Kp_Wire_V1_GoAway()
    goAway.lastCallId = machine.newestCallID
    goAway.code = error.code.wireValue
    goAway.reason = message
    var envelope = Kp_Wire_V1_Envelope()
    envelope.kind = .goaway(goAway)
    _ = machine.transportClosed()
    closeGracefully(goAway: envelope, reason: error)
  }

  private func handle(_ envelope: Kp_Wire_V1_Envelope) {
    // The buffer is kept between frames; an action may lead to another frame being handled
    // (never in practice), so it is taken out while in use.
    var actions = pendingActions
    pendingActions = []
    machine.receive(envelope, now: lastReceived, into: &actions)
    for action in actions { perform(action) }
    actions.removeAll(keepingCapacity: true)
    pendingActions = actions
  }

  private func perform(_ action: ConnectionStateMachine.Action) {
    switch action {
    case .send(let envelope):
      enqueue(envelope)
    case .openCall(let id, let start):
      let opened = openCall?(self, id, start) ?? .failure(.unavailable("not accepting calls"))
      switch opened {
      case .success(let endpoint):
        calls[id] = endpoint
      case .failure(let error):
        enqueue(ConnectionStateMachine.statusEnvelope(id: id, error: error))
        if let close = machine.callEnded(id: id) { perform(close) }
      }
    case .deliverMessage(let id, let data):
      calls[id]?.receive(data)
    case .deliverEndOfMessages(let id):
      // Taken out first: a unary handler may run to its end inside `receiveEnd` and close the
      // call, which changes `calls`.
      let endpoint = calls[id]
      endpoint?.receiveEnd()
    case .cancelCall(let id):
      calls.removeValue(forKey: id)?.terminate(
        .cancelled("the client cancelled the call"), trailers: Metadata())
      scheduleIdleCheckIfNeeded()
    case .finishCall(let id, let error, let trailers):
      calls.removeValue(forKey: id)?.terminate(error, trailers: trailers)
    case .grantCredit(let id, let bytes):
      calls[id]?.grant(bytes)
    case .failUnprocessedCalls(let ids, let error):
      for id in ids { calls.removeValue(forKey: id)?.terminate(error, trailers: Metadata()) }
    case .peerSettings(let settings):
      if settings.maxFrameSize > 0 {
        peerMessageLimitStorage.store(
          max(0, Int(settings.maxFrameSize) - Self.envelopeOverhead), ordering: .relaxed)
      }
      // Client calls opened before the settings have no send credit yet: each gets the window
      // the server announced now.
      if role == .client {
        for endpoint in calls.values { endpoint.grant(machine.peerInitialCallWindow) }
      }
      handshakeTimer?.cancel()
      handshakeTimer = nil
      wasReady = true
      scheduleKeepalive()
      scheduleIdleCheckIfNeeded()
    case .pongReceived:
      pongTimer?.cancel()
      pongTimer = nil
    case .close(let goAway, let reason):
      if goAway != nil {
        logger.warning(
          "closing the connection", ["peer": peerDescription, "reason": reason.message])
      }
      closeGracefully(goAway: goAway, reason: reason)
    }
    if machine.state == .draining || machine.state == .closed, let callback = onDrain {
      onDrain = nil
      callback(self)
    }
  }

  // MARK: Calls

  /// Client: starts a call; returns its id or why it cannot start.
  ///
  /// - Parameter onlyRequest: the call's one and only request, sent with the start and followed
  ///   by the half-close: in the same frame when it fits the peer's frame size, else in frames
  ///   of their own.
  func startCall(
    method: String, metadata: Metadata, timeout: Duration?, endpoint: any CallEndpoint,
    onlyRequest: [UInt8]? = nil
  ) -> Result<UInt64, RPCError> {
    guard acceptsNewCalls else {
      return .failure(.unavailable("the connection to \(peerDescription) is closing"))
    }
    let started = machine.startCall()
    guard case .success(let id) = started else { return started }

    var start = Kp_Wire_V1_CallStart()
    start.method = method
    start.metadata = metadata.wireEntries
    if let timeout { start.timeoutMicros = max(1, timeout.nonNegativeMicroseconds) }
    let carried = onlyRequest.map { Self.fitsWithStart($0, start, limit: peerMessageLimit) }
    if let onlyRequest, carried == true {
      var payload = Kp_Wire_V1_Payload()
      payload.data = onlyRequest
      start.firstMessage = payload
      start.halfClose = true
    }
    var envelope = Kp_Wire_V1_Envelope()
    envelope.callId = id
    envelope.kind = .start(start)
    calls[id] = endpoint
    if machine.state != .awaitingSettings {
      // A call starts with no send credit; once the server's settings are known it gets the
      // window they announced (calls opened earlier get it when the settings arrive).
      endpoint.grant(machine.peerInitialCallWindow)
    }
    enqueue(envelope)
    if let onlyRequest, carried == false {
      sendMessage(id: id, data: onlyRequest)
      sendHalfClose(id: id)
    }
    return .success(id)
  }

  /// Whether a request fits in one frame with the start that carries it, judged on an upper
  /// bound of what the start adds: its method and metadata, and a field header for each.
  private static func fitsWithStart(
    _ request: [UInt8], _ start: Kp_Wire_V1_CallStart, limit: Int
  ) -> Bool {
    var size = request.count + start.method.utf8.count + 32
    for entry in start.metadata {
      size += entry.key.utf8.count + 24
      switch entry.value {
      case .text(let text): size += text.utf8.count
      case .binary(let binary): size += binary.count
      case nil: break
      }
    }
    return size <= limit
  }

  /// Sends one message on a call.
  func sendMessage(id: UInt64, data: [UInt8]) {
    guard calls[id] != nil, phase != .closed else { return }
    EnvelopeCodec.appendPayload(callID: id, data: data, to: &outbound)
    scheduleFlushIfNeeded()
  }

  /// Client: no more messages on a call.
  func sendHalfClose(id: UInt64) {
    guard calls[id] != nil else { return }
    var envelope = Kp_Wire_V1_Envelope()
    envelope.callId = id
    envelope.kind = .halfClose(Kp_Wire_V1_HalfClose())
    enqueue(envelope)
  }

  /// Client: abandons a call, telling the server, and ends it locally with `error`.
  func cancelCall(id: UInt64, error: RPCError) {
    guard let endpoint = calls.removeValue(forKey: id) else { return }
    var cancel = Kp_Wire_V1_Cancel()
    cancel.reason = error.message
    var envelope = Kp_Wire_V1_Envelope()
    envelope.callId = id
    envelope.kind = .cancel(cancel)
    enqueue(envelope)
    endpoint.terminate(error, trailers: Metadata())
    if let close = machine.callEnded(id: id) { perform(close) }
  }

  /// Server: ends a call with a status, the error's trailers with it. The endpoint is not told
  /// (it ended the call).
  ///
  /// With `flushIfIdle`, the output is written at once when no other call is open and no
  /// other frame of the same read waits to be handled, rather than at the end of the loop's
  /// turn: the caller is waiting, and the work left in the turn (the handler's task ending) can
  /// run while the response travels.
  ///
  /// `lastMessage`, when given, is the call's last message, sent in the status frame; it must
  /// fit within `peerMessageLimit`.
  func sendStatus(
    id: UInt64, error: RPCError?, lastMessage: [UInt8]? = nil, flushIfIdle: Bool = false
  ) {
    guard calls.removeValue(forKey: id) != nil else { return }
    enqueue(ConnectionStateMachine.statusEnvelope(id: id, error: error, lastMessage: lastMessage))
    if flushIfIdle && calls.isEmpty && framesLeftInRead == 0 { flush() }
    if let close = machine.callEnded(id: id) { perform(close) }
    scheduleIdleCheckIfNeeded()
  }

  /// Whether a call is open on this connection.
  func hasCall(_ id: UInt64) -> Bool { calls[id] != nil }

  /// Writes the pending output now when `id` is the only open call, instead of at the end of
  /// the loop's turn: no other call's frames could join the write.
  func flushIfOnlyCall(_ id: UInt64) {
    if calls.count == 1 && calls[id] != nil { flush() }
  }

  /// Reports consumed bytes of a call so the peer gets more credit.
  func consumed(id: UInt64, bytes: Int) {
    if let action = machine.consumed(id: id, bytes: bytes) { perform(action) }
  }

  /// Begins a graceful drain: a GOAWAY, no new calls, close when the last call ends.
  func drain(reason: String) {
    guard phase != .closed else { return }
    for action in machine.beginDrain(reason: reason) { perform(action) }
  }

  // MARK: Writing

  private func enqueue(_ envelope: Kp_Wire_V1_Envelope) {
    guard phase != .closed else { return }
    EnvelopeCodec.append(envelope, to: &outbound)
    scheduleFlushIfNeeded()
  }

  private func scheduleFlushIfNeeded() {
    if !flushScheduled {
      flushScheduled = true
      loop.scheduleFlush(self)
    }
  }

  func flushScheduledOutput() {
    flushScheduled = false
    flush()
  }

  private func flush() {
    guard phase == .established, !writeBlocked else { return }
    while outboundOffset < outbound.count {
      let result = outbound.withUnsafeBytes { bytes in
        session.write(UnsafeRawBufferPointer(rebasing: bytes[outboundOffset...]))
      }
      switch result {
      case .ok(let count):
        outboundOffset += count
      case .wantWrite, .wantRead:
        writeBlocked = true
        updateInterest()
        return
      case .closed:
        terminate(.unavailable("the peer closed the connection"))
        return
      case .failed(let error):
        terminate(.unavailable("writing to \(peerDescription) failed: \(error.message)"))
        return
      }
    }
    // Keep a small buffer for the next turn; give a large one back, so a burst on one of
    // many connections does not pin its peak memory.
    outbound.removeAll(keepingCapacity: outbound.capacity <= 32 * 1024)
    outboundOffset = 0
    updateInterest()
    if let reason = closeAfterFlush { terminate(reason) }
  }

  private func updateInterest() {
    let wantsOut = writeBlocked && outboundOffset < outbound.count
    setInterest(EPOLLIN.rawValue | (wantsOut ? EPOLLOUT.rawValue : 0))
  }

  private func setInterest(_ events: UInt32) {
    guard events != watchedEvents, phase != .closed else { return }
    watchedEvents = events
    loop.modify(descriptor, events: events)
  }

  // MARK: Timers

  private func scheduleKeepalive() {
    guard let interval = keepalive.interval else { return }
    keepaliveTimer?.cancel()
    keepaliveTimer = loop.scheduleTimer(at: lastReceived.advanced(by: interval)) {
      [weak self] in
      self?.keepaliveDue()
    }
  }

  private func keepaliveDue() {
    guard phase == .established, let interval = keepalive.interval else { return }
    let due = lastReceived.advanced(by: interval)
    if MonotonicInstant.now() < due {
      scheduleKeepalive()
      return
    }

    pingCounter += 1
    var ping = Kp_Wire_V1_Ping()
    ping.opaque = pingCounter
    var envelope = Kp_Wire_V1_Envelope()
    envelope.kind = .ping(ping)
    enqueue(envelope)
    pongTimer = loop.scheduleTimer(after: keepalive.timeout) { [weak self] in
      self?.terminate(.unavailable("the peer did not answer a keepalive ping"))
    }
    keepaliveTimer = loop.scheduleTimer(after: interval) { [weak self] in
      self?.keepaliveDue()
    }
  }

  /// Keeps one idle timer while the connection has no call. The timer is not moved on every
  /// call: when it fires it compares against the time the last call ended and, if the
  /// connection was busy since, sleeps again for the remainder.
  private func scheduleIdleCheckIfNeeded() {
    guard role == .server, calls.isEmpty, phase == .established else { return }
    idleSince = MonotonicInstant.now()
    guard idleTimer == nil else { return }
    idleTimer = loop.scheduleTimer(at: idleSince.advanced(by: limits.idleTimeout)) {
      [weak self] in
      self?.idleTimerFired()
    }
  }

  private func idleTimerFired() {
    idleTimer = nil
    guard phase == .established, calls.isEmpty else { return }
    let due = idleSince.advanced(by: limits.idleTimeout)
    if MonotonicInstant.now() < due {
      idleTimer = loop.scheduleTimer(at: due) { [weak self] in self?.idleTimerFired() }
      return
    }
    drain(reason: "idle timeout")
  }

  // MARK: Closing

  /// Sends `goAway` if given, flushes, then closes.
  private func closeGracefully(goAway: Kp_Wire_V1_Envelope?, reason: RPCError) {
    guard phase != .closed else { return }
    if let goAway {
      enqueue(goAway)
      lingerOnClose = true
    }
    closeAfterFlush = reason
    if phase == .established && !writeBlocked {
      flush()
    } else if phase != .established {
      terminate(reason)
    }
    if phase != .closed && forceCloseTimer == nil {
      forceCloseTimer = loop.scheduleTimer(after: .seconds(2)) { [weak self] in
        self?.terminate(reason)
      }
    }
  }

  /// Closes at once: every open call ends with `reason`.
  func terminate(_ reason: RPCError) {
    guard phase != .closed else { return }
    let wasEstablished = phase == .established
    phase = .closed
    for timer in [handshakeTimer, idleTimer, keepaliveTimer, pongTimer, forceCloseTimer] {
      timer?.cancel()
    }
    if wasEstablished { session.shutdown() }
    if lingerOnClose && wasEstablished {
      beginLinger()
    } else {
      loop.deregister(descriptor)
      Glibc.close(descriptor)
    }

    _ = machine.transportClosed()
    let open = calls
    calls.removeAll()
    for (_, endpoint) in open { endpoint.terminate(reason, trailers: Metadata()) }
    outbound = []
    outboundOffset = 0
    openCall = nil
    let callback = onClose
    onClose = nil
    callback?(self, reason)
  }

  // MARK: Lingering close

  /// After a GOAWAY, the peer must be able to read it. Closing a socket that still holds unread
  /// input makes the kernel send a reset, which can destroy the GOAWAY in the peer's buffers
  /// before it is read. So the write side is shut (a FIN after the data), and what the peer
  /// still sends is read and dropped until it closes too, or for at most two seconds.
  private func beginLinger() {
    Glibc.shutdown(descriptor, Int32(SHUT_WR))
    lingering = true
    loop.modify(descriptor, events: EPOLLIN.rawValue)
    lingerTimer = loop.scheduleTimer(after: .seconds(2)) { [weak self] in
      self?.finishLinger()
    }
  }

  private func drainWhileLingering() {
    let buffer = loop.readBuffer
    for _ in 0..<64 {
      let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
      if count > 0 { continue }
      if count < 0 && (kp_errno() == EAGAIN || kp_errno() == EWOULDBLOCK) { return }
      finishLinger()
      return
    }
  }

  private func finishLinger() {
    guard lingering else { return }
    lingering = false
    lingerTimer?.cancel()
    lingerTimer = nil
    loop.deregister(descriptor)
    Glibc.close(descriptor)
  }
}
