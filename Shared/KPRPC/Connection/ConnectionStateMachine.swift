import KPProtocol

/// The protocol state of one connection, without any I/O.
///
/// It is fed envelopes received from the peer and local decisions, and answers with the
/// actions the connection must take: frames to send, calls to open, deliver to or finish, and
/// when to close. It enforces the protocol's rules: call ids increase, a call's frames follow
/// its start, the peer's limits on concurrent calls and pinging, and the drain after a GOAWAY.
struct ConnectionStateMachine {
  enum Role: Equatable { case client, server }

  /// What the connection must do after an input.
  enum Action: Equatable {
    /// Send a frame.
    case send(Kp_Wire_V1_Envelope)
    /// Server: a new call passed every check; start its handler.
    case openCall(id: UInt64, start: Kp_Wire_V1_CallStart)
    /// Hand a received message to a call.
    case deliverMessage(id: UInt64, data: [UInt8])
    /// The peer will send no more messages on a call.
    case deliverEndOfMessages(id: UInt64)
    /// Server: the client cancelled a call; stop its handler.
    case cancelCall(id: UInt64)
    /// Client: the server ended a call with a status.
    case finishCall(id: UInt64, error: RPCError?, trailers: Metadata)
    /// Give a call more send credit.
    case grantCredit(id: UInt64, bytes: Int)
    /// Client: the peer goes away; these calls were never processed.
    case failUnprocessedCalls(ids: [UInt64], error: RPCError)
    /// Settings from the peer arrived.
    case peerSettings(Kp_Wire_V1_Settings)
    /// A pong arrived.
    case pongReceived(opaque: UInt64)
    /// Close the connection, after sending `goAway` when there is one.
    case close(goAway: Kp_Wire_V1_Envelope?, reason: RPCError)
  }

  enum State: Equatable {
    /// Waiting for the peer's settings.
    case awaitingSettings
    /// Calls flow.
    case active
    /// A GOAWAY was sent or received: no new calls; close when the last one ends.
    case draining
    /// Closed.
    case closed
  }

  private struct CallState {
    var peerHalfClosed = false
    var receiveWindow: Int
    var pendingCredit = 0
  }

  let role: Role
  let limits: ConnectionLimits
  private(set) var state: State = .awaitingSettings
  private(set) var peerSettings = Kp_Wire_V1_Settings()
  private var calls: [UInt64: CallState] = [:]
  private var highestCallID: UInt64 = 0
  private var goAwaySent = false
  private var lastPingReceived: MonotonicInstant?
  private var framesSincePing = 0
  private var pingStrikes = 0

  init(role: Role, limits: ConnectionLimits) {
    self.role = role
    self.limits = limits
  }

  /// The number of calls open on this connection.
  var openCallCount: Int { calls.count }

  /// Whether new calls may start on this connection.
  var acceptsNewCalls: Bool { state == .active || state == .awaitingSettings }

  /// The id of the newest call seen or started.
  var newestCallID: UInt64 { highestCallID }

  /// The settings frame this side sends first.
  func localSettingsFrame() -> Kp_Wire_V1_Envelope {
    var settings = Kp_Wire_V1_Settings()
    settings.maxFrameSize = UInt32(clamping: limits.maximumFrameSize)
    settings.maxConcurrentCalls = UInt32(clamping: limits.maximumConcurrentCalls)
    settings.initialCallWindow = UInt32(clamping: limits.initialCallWindow)
    settings.minPingIntervalMs = UInt32(
      clamping: limits.minimumPingInterval.nanosecondsClamped / 1_000_000)
    var envelope = Kp_Wire_V1_Envelope()
    envelope.kind = .settings(settings)
    return envelope
  }

  /// The send window a new call starts with, as the peer announced it.
  var peerInitialCallWindow: Int {
    peerSettings.initialCallWindow == 0
      ? ConnectionLimits().initialCallWindow : Int(peerSettings.initialCallWindow)
  }

  // MARK: Local events

  /// Client: registers a new call. Returns its id, or an error when no call may start.
  mutating func startCall() -> Result<UInt64, RPCError> {
    precondition(role == .client)
    guard acceptsNewCalls else {
      return .failure(.unavailable("the connection is closing; retry on another"))
    }
    highestCallID += 1
    calls[highestCallID] = CallState(receiveWindow: limits.initialCallWindow)
    return .success(highestCallID)
  }

  /// A call ended locally (status sent by the server, status received or call abandoned by the
  /// client). Returns a close action when a draining connection has no call left.
  mutating func callEnded(id: UInt64) -> Action? {
    calls[id] = nil
    return closeIfDrained()
  }

  /// The application consumed `bytes` of a call's received payload; returns the credit to grant.
  mutating func consumed(id: UInt64, bytes: Int) -> Action? {
    guard var call = calls[id], !call.peerHalfClosed, bytes > 0 else { return nil }
    call.pendingCredit += bytes
    guard call.pendingCredit >= limits.initialCallWindow / 2 || call.receiveWindow <= 0 else {
      calls[id] = call
      return nil
    }

    let increment = call.pendingCredit
    call.receiveWindow += increment
    call.pendingCredit = 0
    calls[id] = call
    var update = Kp_Wire_V1_WindowUpdate()
    update.increment = UInt32(clamping: increment)
    var envelope = Kp_Wire_V1_Envelope()
    envelope.callId = id
    envelope.kind = .windowUpdate(update)
    return .send(envelope)
  }

  /// Begins a graceful shutdown: no new calls; open ones finish.
  mutating func beginDrain(reason: String) -> [Action] {
    guard state != .closed, !goAwaySent else { return [] }
    goAwaySent = true
    state = .draining
    var goAway = Kp_Wire_V1_GoAway()
    goAway.lastCallId = highestCallID
    goAway.code = .unavailable
    goAway.reason = reason
    var envelope = Kp_Wire_V1_Envelope()
    envelope.kind = .goaway(goAway)
    var actions: [Action] = [.send(envelope)]
    if let close = closeIfDrained() { actions.append(close) }
    return actions
  }

  /// The transport failed or closed: every open call ends.
  mutating func transportClosed() -> [UInt64] {
    state = .closed
    let ids = Array(calls.keys)
    calls.removeAll()
    return ids
  }

  // MARK: Frames from the peer

  /// Applies one envelope received from the peer.
  mutating func receive(_ envelope: Kp_Wire_V1_Envelope, now: MonotonicInstant) -> [Action] {
    var actions: [Action] = []
    receive(envelope, now: now, into: &actions)
    return actions
  }

  /// Applies one envelope received from the peer, appending the actions to `actions`: the
  /// connection passes a buffer it keeps, so a frame costs no array of its own.
  mutating func receive(
    _ envelope: Kp_Wire_V1_Envelope, now: MonotonicInstant, into actions: inout [Action]
  ) {
    guard state != .closed else { return }
    guard let kind = envelope.kind else {
      return actions.append(protocolViolation("an envelope arrived with no frame kind"))
    }

    if case .ping = kind {} else { framesSincePing += 1 }

    if state == .awaitingSettings {
      guard case .settings(let settings) = kind, envelope.callId == 0 else {
        return actions.append(protocolViolation("the first frame must be settings"))
      }
      peerSettings = settings
      state = .active
      return actions.append(.peerSettings(settings))
    }

    switch kind {
    case .settings, .ping, .pong, .goaway:
      guard envelope.callId == 0 else {
        return actions.append(
          protocolViolation("a connection-level frame carried call id \(envelope.callId)"))
      }
    default:
      guard envelope.callId != 0 else {
        return actions.append(protocolViolation("a call frame carried call id 0"))
      }
    }

    switch kind {
    case .settings:
      actions.append(protocolViolation("settings may be sent only once"))
    case .start(let start):
      let opened = receiveStart(id: envelope.callId, start: start)
      actions.append(opened)
      // A start may carry the call's first message and its half-close: the same as the frames
      // that would follow it, and only for a call that opened.
      guard case .openCall = opened else { return }
      if let message = start.firstMessage,
        let action = receivePayload(id: envelope.callId, data: message.data)
      {
        actions.append(action)
        if case .close = action { return }
      }
      if start.halfClose, let action = receiveHalfClose(id: envelope.callId) {
        actions.append(action)
      }
    case .payload(let payload):
      if let action = receivePayload(id: envelope.callId, data: payload.data) {
        actions.append(action)
      }
    case .halfClose:
      if let action = receiveHalfClose(id: envelope.callId) { actions.append(action) }
    case .cancel:
      receiveCancel(id: envelope.callId, into: &actions)
    case .status(let status):
      receiveStatus(id: envelope.callId, status: status, into: &actions)
    case .ping(let ping):
      actions.append(receivePing(ping, now: now))
    case .pong(let pong):
      actions.append(.pongReceived(opaque: pong.opaque))
    case .goaway(let goAway):
      receiveGoAway(goAway, into: &actions)
    case .windowUpdate(let update):
      guard envelope.callId != 0, update.increment > 0 else {
        return actions.append(
          protocolViolation("a window update needs a call id and a positive increment"))
      }
      guard calls[envelope.callId] != nil else { return }
      actions.append(.grantCredit(id: envelope.callId, bytes: Int(update.increment)))
    }
  }

  private mutating func receiveStart(id: UInt64, start: Kp_Wire_V1_CallStart) -> Action {
    guard role == .server else { return protocolViolation("a server may not start calls") }
    guard id > highestCallID else {
      return protocolViolation("call id \(id) does not increase (last was \(highestCallID))")
    }
    highestCallID = id

    if state == .draining {
      return statusFrame(
        id: id, .unavailable("the server is shutting down; retry on another connection"))
    }
    if calls.count >= limits.maximumConcurrentCalls {
      return statusFrame(
        id: id,
        RPCError(
          .resourceExhausted,
          "too many concurrent calls on one connection (limit \(limits.maximumConcurrentCalls))"
        ))
    }
    if !Self.isMethodPath(start.method) {
      return statusFrame(
        id: id,
        RPCError(
          .invalidArgument, "method '\(start.method)' is not of the form /pkg.Service/Method"))
    }
    calls[id] = CallState(receiveWindow: limits.initialCallWindow)
    return .openCall(id: id, start: start)
  }

  private mutating func receivePayload(id: UInt64, data: [UInt8]) -> Action? {
    guard var call = calls[id] else {
      // A late frame for a call this side already ended: ignore it.
      return id <= highestCallID ? nil : protocolViolation("payload for unknown call \(id)")
    }
    guard !call.peerHalfClosed else {
      return protocolViolation("payload after half-close on call \(id)")
    }
    // A sender may send while its window is positive, so one message may overshoot it.
    guard call.receiveWindow > 0 || data.isEmpty else {
      return protocolViolation("call \(id) sent beyond its flow-control window")
    }
    call.receiveWindow -= data.count
    calls[id] = call
    return .deliverMessage(id: id, data: data)
  }

  private mutating func receiveHalfClose(id: UInt64) -> Action? {
    guard role == .server else { return protocolViolation("a server may not half-close") }
    guard var call = calls[id] else { return nil }
    call.peerHalfClosed = true
    calls[id] = call
    return .deliverEndOfMessages(id: id)
  }

  private mutating func receiveCancel(id: UInt64, into actions: inout [Action]) {
    guard role == .server else {
      return actions.append(protocolViolation("a server may not cancel calls"))
    }
    guard calls.removeValue(forKey: id) != nil else { return }
    actions.append(.cancelCall(id: id))
    if let close = closeIfDrained() { actions.append(close) }
  }

  private mutating func receiveStatus(
    id: UInt64, status: Kp_Wire_V1_Status, into actions: inout [Action]
  ) {
    guard role == .client else {
      return actions.append(protocolViolation("a client may not send a status"))
    }
    // A status may carry the call's last message: the same as a payload frame before it.
    if let message = status.lastMessage, let action = receivePayload(id: id, data: message.data) {
      actions.append(action)
      if case .close = action { return }
    }
    guard calls.removeValue(forKey: id) != nil else { return }
    let code = RPCError.Code(status.code)
    let trailers = Metadata(wire: status.trailers)
    // The caller's error carries what the server sent with the status.
    let error = code == .ok ? nil : RPCError(code, status.message, trailers: trailers)
    actions.append(.finishCall(id: id, error: error, trailers: trailers))
    if let close = closeIfDrained() { actions.append(close) }
  }

  private mutating func receivePing(_ ping: Kp_Wire_V1_Ping, now: MonotonicInstant) -> Action {
    defer {
      lastPingReceived = now
      framesSincePing = 0
    }
    if let last = lastPingReceived, calls.isEmpty, framesSincePing == 0,
      now < last.advanced(by: limits.minimumPingInterval)
    {
      pingStrikes += 1
      if pingStrikes > limits.pingStrikeTolerance {
        return goAwayAndClose(
          RPCError(.resourceExhausted, "too many pings: the peer must ping less often"))
      }
    }

    var pong = Kp_Wire_V1_Pong()
    pong.opaque = ping.opaque
    var envelope = Kp_Wire_V1_Envelope()
    envelope.kind = .pong(pong)
    return .send(envelope)
  }

  private mutating func receiveGoAway(_ goAway: Kp_Wire_V1_GoAway, into actions: inout [Action]) {
    state = .draining
    if role == .client {
      let unprocessed = calls.keys.filter { $0 > goAway.lastCallId }.sorted()
      for id in unprocessed { calls[id] = nil }
      if !unprocessed.isEmpty {
        actions.append(
          .failUnprocessedCalls(
            ids: unprocessed,
            error: .unavailable(
              "the server went away before processing the call: \(goAway.reason)")))
      }
    }
    if let close = closeIfDrained() { actions.append(close) }
  }

  // MARK: Helpers

  private mutating func closeIfDrained() -> Action? {
    guard state == .draining, calls.isEmpty else { return nil }
    state = .closed
    return .close(goAway: nil, reason: .unavailable("the connection drained"))
  }

  private mutating func protocolViolation(_ detail: String) -> Action {
    goAwayAndClose(RPCError(.internalError, "protocol violation: \(detail)"))
  }

  private mutating func goAwayAndClose(_ error: RPCError) -> Action {
    state = .closed
    var goAway = Kp_Wire_V1_GoAway()
    goAway.lastCallId = highestCallID
    goAway.code = error.code.wireValue
    goAway.reason = error.message
    var envelope = Kp_Wire_V1_Envelope()
    envelope.kind = .goaway(goAway)
    return .close(goAway: envelope, reason: error)
  }

  /// Whether a method is of the form `/package.Service/Method`.
  static func isMethodPath(_ path: String) -> Bool {
    // Every call's start passes here: a string read from the wire is contiguous, and its bytes
    // are scanned in place.
    if let valid = path.utf8.withContiguousStorageIfAvailable({ isMethodPath(bytes: $0) }) {
      return valid
    }
    return isMethodPath(bytes: path.utf8)
  }

  private static func isMethodPath(bytes path: some Sequence<UInt8>) -> Bool {
    var slashes = 0
    var serviceLength = 0
    var serviceHasDot = false
    var methodLength = 0
    for byte in path {
      if byte == UInt8(ascii: "/") {
        slashes += 1
        guard slashes <= 2 else { return false }
        continue
      }
      switch slashes {
      case 0: return false
      case 1:
        serviceLength += 1
        if byte == UInt8(ascii: ".") { serviceHasDot = true }
      default: methodLength += 1
      }
    }
    return slashes == 2 && serviceLength > 0 && serviceHasDot && methodLength > 0
  }

  /// A status frame for a call refused before it opened.
  func statusFrame(id: UInt64, _ error: RPCError) -> Action {
    .send(Self.statusEnvelope(id: id, error: error))
  }

  /// The status frame that ends call `id`: OK when `error` is nil, with `lastMessage` carried
  /// in it when given.
  static func statusEnvelope(
    id: UInt64, error: RPCError?, lastMessage: [UInt8]? = nil
  ) -> Kp_Wire_V1_Envelope {
    var status = Kp_Wire_V1_Status()
    if let lastMessage {
      var payload = Kp_Wire_V1_Payload()
      payload.data = lastMessage
      status.lastMessage = payload
    }
    status.code = (error?.code ?? .ok).wireValue
    status.message = error?.message ?? ""
    if let trailers = error?.trailers, !trailers.entries.isEmpty {
      status.trailers = trailers.wireEntries
    }
    var envelope = Kp_Wire_V1_Envelope()
    envelope.callId = id
    envelope.kind = .status(status)
    return envelope
  }
}
