import KPProtocol
import Testing

@testable import KPRPC

@Suite("Connection state machine")
struct ConnectionStateMachineTests {
  private let now = MonotonicInstant(nanoseconds: 1_000_000_000)

  private func envelope(_ id: UInt64, _ kind: Kp_Wire_V1_Envelope.OneOf_Kind)
    -> Kp_Wire_V1_Envelope
  {
    var envelope = Kp_Wire_V1_Envelope()
    envelope.callId = id
    envelope.kind = kind
    return envelope
  }

  private func start(_ method: String = "/kp.testing.v1.Echo/Echo")
    -> Kp_Wire_V1_Envelope
    .OneOf_Kind
  {
    var start = Kp_Wire_V1_CallStart()
    start.method = method
    return .start(start)
  }

  private func activeServer(limits: ConnectionLimits = ConnectionLimits())
    -> ConnectionStateMachine
  {
    var machine = ConnectionStateMachine(role: .server, limits: limits)
    _ = machine.receive(envelope(0, .settings(Kp_Wire_V1_Settings())), now: now)
    return machine
  }

  private func isClose(_ actions: [ConnectionStateMachine.Action]) -> String? {
    for action in actions {
      if case .close(let goAway?, _) = action, case .goaway(let frame) = goAway.kind {
        return frame.reason
      }
    }
    return nil
  }

  @Test("the first frame must be settings")
  func settingsFirst() {
    var machine = ConnectionStateMachine(role: .server, limits: ConnectionLimits())
    let actions = machine.receive(envelope(1, start()), now: now)
    #expect(isClose(actions)?.contains("first frame must be settings") == true)
    #expect(machine.state == .closed)
  }

  @Test("a valid start opens a call")
  func startOpensCall() {
    var machine = activeServer()
    let actions = machine.receive(envelope(1, start()), now: now)
    guard case .openCall(let id, let opened) = actions.first else {
      Issue.record("expected openCall, got \(actions)")
      return
    }
    #expect(id == 1)
    #expect(opened.method == "/kp.testing.v1.Echo/Echo")
    #expect(machine.openCallCount == 1)
  }

  @Test("a start carrying the first message and the half-close acts as the three frames")
  func startCarriesMessage() {
    var payload = Kp_Wire_V1_Payload()
    payload.data = [1, 2, 3]
    var start = Kp_Wire_V1_CallStart()
    start.method = "/kp.testing.v1.Echo/Echo"
    start.firstMessage = payload
    start.halfClose = true

    var machine = activeServer()
    let actions = machine.receive(envelope(1, .start(start)), now: now)
    #expect(
      actions == [
        .openCall(id: 1, start: start), .deliverMessage(id: 1, data: [1, 2, 3]),
        .deliverEndOfMessages(id: 1),
      ])
    let late = machine.receive(envelope(1, .payload(payload)), now: now)
    #expect(isClose(late)?.contains("payload after half-close on call 1") == true)

    // Only the half-close: a client-streaming call with no message.
    var bare = Kp_Wire_V1_CallStart()
    bare.method = "/kp.testing.v1.Echo/Echo"
    bare.halfClose = true
    var second = activeServer()
    #expect(
      second.receive(envelope(1, .start(bare)), now: now) == [
        .openCall(id: 1, start: bare), .deliverEndOfMessages(id: 1),
      ])

    // A refused start delivers nothing.
    var limits = ConnectionLimits()
    limits.maximumConcurrentCalls = 0
    var full = activeServer(limits: limits)
    let refused = full.receive(envelope(1, .start(start)), now: now)
    #expect(refused.count == 1)
    guard case .send(let frame) = refused.first, case .status(let status) = frame.kind else {
      Issue.record("expected a status, got \(refused)")
      return
    }
    #expect(status.code == .resourceExhausted)
  }

  @Test("call ids must increase")
  func callIDsIncrease() {
    var machine = activeServer()
    _ = machine.receive(envelope(5, start()), now: now)
    let actions = machine.receive(envelope(3, start()), now: now)
    #expect(isClose(actions)?.contains("does not increase") == true)
  }

  @Test("a call over the concurrency limit gets RESOURCE_EXHAUSTED")
  func concurrencyLimit() {
    var limits = ConnectionLimits()
    limits.maximumConcurrentCalls = 2
    var machine = activeServer(limits: limits)
    _ = machine.receive(envelope(1, start()), now: now)
    _ = machine.receive(envelope(2, start()), now: now)
    let actions = machine.receive(envelope(3, start()), now: now)
    guard case .send(let frame) = actions.first, case .status(let status) = frame.kind else {
      Issue.record("expected a status, got \(actions)")
      return
    }
    #expect(status.code == .resourceExhausted)
    #expect(frame.callId == 3)
  }

  @Test("a payload after half-close is a protocol violation")
  func payloadAfterHalfClose() {
    var machine = activeServer()
    _ = machine.receive(envelope(1, start()), now: now)
    _ = machine.receive(envelope(1, .halfClose(Kp_Wire_V1_HalfClose())), now: now)
    let actions = machine.receive(envelope(1, .payload(Kp_Wire_V1_Payload())), now: now)
    #expect(isClose(actions)?.contains("after half-close") == true)
  }

  @Test("payload beyond the flow-control window is refused")
  func flowControlWindow() {
    var limits = ConnectionLimits()
    limits.initialCallWindow = 10
    var machine = activeServer(limits: limits)
    _ = machine.receive(envelope(1, start()), now: now)
    var payload = Kp_Wire_V1_Payload()
    payload.data = [UInt8](repeating: 1, count: 12)
    let first = machine.receive(envelope(1, .payload(payload)), now: now)
    #expect(first == [.deliverMessage(id: 1, data: payload.data)])
    let second = machine.receive(envelope(1, .payload(payload)), now: now)
    #expect(isClose(second)?.contains("flow-control window") == true)
  }

  @Test("consumed bytes grant credit with a window update")
  func creditGranted() {
    var limits = ConnectionLimits()
    limits.initialCallWindow = 100
    var machine = activeServer(limits: limits)
    _ = machine.receive(envelope(1, start()), now: now)
    #expect(machine.consumed(id: 1, bytes: 10) == nil)
    guard case .send(let frame) = machine.consumed(id: 1, bytes: 50),
      case .windowUpdate(let update) = frame.kind
    else {
      Issue.record("expected a window update")
      return
    }
    #expect(update.increment == 60)
  }

  @Test("rapid pings on an idle connection earn a GOAWAY; on a busy one they do not")
  func pingPolicy() {
    var idle = activeServer()
    var reason: String?
    for _ in 0..<4 {
      reason = isClose(idle.receive(envelope(0, .ping(Kp_Wire_V1_Ping())), now: now)) ?? reason
    }
    #expect(reason?.contains("too many pings") == true)

    var busy = activeServer()
    _ = busy.receive(envelope(1, start()), now: now)
    for _ in 0..<10 {
      let actions = busy.receive(envelope(0, .ping(Kp_Wire_V1_Ping())), now: now)
      guard case .send(let frame) = actions.first, case .pong = frame.kind else {
        Issue.record("expected a pong, got \(actions)")
        return
      }
    }
    #expect(busy.state == .active)
  }

  @Test("a GOAWAY fails the client's unprocessed calls and keeps the others")
  func clientGoAway() {
    var machine = ConnectionStateMachine(role: .client, limits: ConnectionLimits())
    for _ in 0..<3 { _ = machine.startCall() }
    _ = machine.receive(envelope(0, .settings(Kp_Wire_V1_Settings())), now: now)
    var goAway = Kp_Wire_V1_GoAway()
    goAway.lastCallId = 1
    goAway.reason = "shutting down"
    let actions = machine.receive(envelope(0, .goaway(goAway)), now: now)
    guard case .failUnprocessedCalls(let ids, let error) = actions.first else {
      Issue.record("expected failed calls, got \(actions)")
      return
    }
    #expect(ids == [2, 3])
    #expect(error.code == .unavailable)
    #expect(machine.openCallCount == 1)
    #expect(!machine.acceptsNewCalls)
  }

  @Test("a draining server refuses new calls and closes after the last one")
  func drain() {
    var machine = activeServer()
    _ = machine.receive(envelope(1, start()), now: now)
    let drainActions = machine.beginDrain(reason: "shutdown")
    guard case .send(let frame) = drainActions.first, case .goaway(let goAway) = frame.kind else {
      Issue.record("expected a GOAWAY")
      return
    }
    #expect(goAway.lastCallId == 1)

    let refused = machine.receive(envelope(2, start()), now: now)
    guard case .send(let status) = refused.first, case .status(let body) = status.kind else {
      Issue.record("expected a status")
      return
    }
    #expect(body.code == .unavailable)

    guard case .close = machine.callEnded(id: 1) else {
      Issue.record("expected the drained connection to close")
      return
    }
  }

  @Test("a status from a server ends the client's call with its code")
  func statusEndsCall() {
    var machine = ConnectionStateMachine(role: .client, limits: ConnectionLimits())
    _ = machine.receive(envelope(0, .settings(Kp_Wire_V1_Settings())), now: now)
    guard case .success(let id) = machine.startCall() else { return }
    var status = Kp_Wire_V1_Status()
    status.code = .notFound
    status.message = "no such document"
    let actions = machine.receive(envelope(id, .status(status)), now: now)
    #expect(
      actions == [
        .finishCall(
          id: id, error: RPCError(.notFound, "no such document"), trailers: Metadata())
      ])
  }

  @Test("a status carrying the last message delivers it before it ends the call")
  func statusCarriesMessage() {
    var machine = ConnectionStateMachine(role: .client, limits: ConnectionLimits())
    _ = machine.receive(envelope(0, .settings(Kp_Wire_V1_Settings())), now: now)
    guard case .success(let id) = machine.startCall() else { return }
    var payload = Kp_Wire_V1_Payload()
    payload.data = [9, 8]
    var status = Kp_Wire_V1_Status()
    status.lastMessage = payload
    let actions = machine.receive(envelope(id, .status(status)), now: now)
    #expect(
      actions == [
        .deliverMessage(id: id, data: [9, 8]),
        .finishCall(id: id, error: nil, trailers: Metadata()),
      ])
    #expect(machine.openCallCount == 0)

    // A server may not send a status at all, with a message or without.
    var server = activeServer()
    _ = server.receive(envelope(1, start()), now: now)
    let refused = server.receive(envelope(1, .status(status)), now: now)
    #expect(refused.count == 1)
    #expect(isClose(refused)?.contains("a client may not send a status") == true)
  }

  @Test("connection-level frames need call id 0 and call frames need another")
  func callIDPlacement() {
    var pinged = activeServer()
    let ping = pinged.receive(envelope(7, .ping(Kp_Wire_V1_Ping())), now: now)
    #expect(isClose(ping)?.contains("connection-level frame carried call id 7") == true)

    var started = activeServer()
    let start = started.receive(envelope(0, start()), now: now)
    #expect(isClose(start)?.contains("call id 0") == true)
  }

  @Test("a client refuses a half-close from the server")
  func halfCloseFromServer() {
    var machine = ConnectionStateMachine(role: .client, limits: ConnectionLimits())
    _ = machine.receive(envelope(0, .settings(Kp_Wire_V1_Settings())), now: now)
    _ = machine.startCall()
    let actions = machine.receive(envelope(1, .halfClose(Kp_Wire_V1_HalfClose())), now: now)
    #expect(isClose(actions)?.contains("may not half-close") == true)
  }

  @Test(
    "a method that is not /package.Service/Method gets INVALID_ARGUMENT",
    arguments: ["/foo", "foo/Bar", "/kp.Echo/", "//Echo", "/Echo/Echo", "/a.B/c/d"])
  func malformedMethod(path: String) {
    var machine = activeServer()
    let actions = machine.receive(envelope(1, start(path)), now: now)
    guard case .send(let frame) = actions.first, case .status(let status) = frame.kind else {
      Issue.record("expected a status for \(path), got \(actions)")
      return
    }
    #expect(status.code == .invalidArgument)
  }
}
