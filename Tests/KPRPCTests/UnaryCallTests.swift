import KPProtocol
import KPRPC
import KPTLS
import KPTesting
import Testing

/// Unary calls as a hand-driven client sends them: the server collects the request, runs the
/// handler once the request is complete, and answers with one response and the status.
@Suite("Unary calls from a raw client", .serialized)
struct UnaryCallTests {
  let mesh: TestMesh

  init() throws {
    TLSRuntime.ignoreSIGPIPE()
    mesh = try TestMesh()
  }

  private static func envelope(_ id: UInt64, _ kind: Kp_Wire_V1_Envelope.OneOf_Kind)
    -> Kp_Wire_V1_Envelope
  {
    var envelope = Kp_Wire_V1_Envelope()
    envelope.callId = id
    envelope.kind = kind
    return envelope
  }

  private static func start(_ id: UInt64, timeoutMicros: UInt64 = 3_000_000)
    -> Kp_Wire_V1_Envelope
  {
    var start = Kp_Wire_V1_CallStart()
    start.method = Kp_Testing_V1_Echo.echo.path
    start.timeoutMicros = timeoutMicros
    return envelope(id, .start(start))
  }

  private static func request(_ id: UInt64, bytes: Int) -> Kp_Wire_V1_Envelope {
    var request = Kp_Testing_V1_EchoRequest()
    request.payload = Array(repeating: 0x5A, count: bytes)
    var payload = Kp_Wire_V1_Payload()
    payload.data = request.serializedBytes()
    return envelope(id, .payload(payload))
  }

  private static func halfClose(_ id: UInt64) -> Kp_Wire_V1_Envelope {
    envelope(id, .halfClose(Kp_Wire_V1_HalfClose()))
  }

  /// Reads until `count` statuses arrived or the connection went quiet; returns the frames.
  private static func read(_ peer: RawPeer, statuses count: Int) -> [Kp_Wire_V1_Envelope] {
    var envelopes: [Kp_Wire_V1_Envelope] = []
    for _ in 0..<20 {
      let (more, closed) = peer.readUntilClosed(limit: 1)
      envelopes += more
      let statuses = envelopes.filter {
        if case .status = $0.kind { return true }
        return false
      }
      if statuses.count >= count || closed { break }
    }
    return envelopes
  }

  private static func status(_ id: UInt64, in envelopes: [Kp_Wire_V1_Envelope])
    -> Kp_Wire_V1_Status?
  {
    for envelope in envelopes where envelope.callId == id {
      if case .status(let status) = envelope.kind { return status }
    }
    return nil
  }

  /// The responses sent on call `id`: payload frames, and statuses that carry a last message.
  private static func responses(_ id: UInt64, in envelopes: [Kp_Wire_V1_Envelope]) -> Int {
    envelopes.filter {
      guard $0.callId == id else { return false }
      switch $0.kind {
      case .payload: return true
      case .status(let status): return status.lastMessage != nil
      default: return false
      }
    }.count
  }

  @Test("a start carrying the request and the half-close is answered by one status frame")
  func oneFrameEachWay() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    defer { Task { await server.shutdown(grace: .zero) } }
    let peer = try RawPeer.meshClient(mesh, port: server.port)

    var request = Kp_Testing_V1_EchoRequest()
    request.payload = Array("one frame".utf8)
    var first = Kp_Wire_V1_Payload()
    first.data = request.serializedBytes()
    var start = Kp_Wire_V1_CallStart()
    start.method = Kp_Testing_V1_Echo.echo.path
    start.timeoutMicros = 3_000_000
    start.firstMessage = first
    start.halfClose = true
    peer.send(Self.envelope(1, .start(start)))
    // The same call in separate frames, for comparison: answered the same way.
    peer.send(Self.start(3))
    peer.send(Self.request(3, bytes: 10))
    peer.send(Self.halfClose(3))
    let envelopes = Self.read(peer, statuses: 2)

    for id in [1, 3] as [UInt64] {
      let frames = envelopes.filter { $0.callId == id }
      #expect(frames.count == 1, "call \(id)")
      let status = Self.status(id, in: envelopes)
      #expect(status?.code == .ok, "call \(id)")
      let response = try status?.lastMessage.map {
        try Kp_Testing_V1_EchoResponse(serializedBytes: $0.data)
      }
      let expected = id == 1 ? request.payload : Array(repeating: 0x5A, count: 10)
      #expect(response?.payload == expected, "call \(id)")
    }
  }

  @Test("a call with no request, or two, gets INVALID_ARGUMENT; the next call is answered")
  func requestCount() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    defer { Task { await server.shutdown(grace: .zero) } }
    let peer = try RawPeer.meshClient(mesh, port: server.port)

    peer.send(Self.start(1))
    peer.send(Self.halfClose(1))
    peer.send(Self.start(3))
    peer.send(Self.request(3, bytes: 10))
    peer.send(Self.request(3, bytes: 10))
    peer.send(Self.halfClose(3))
    peer.send(Self.start(5))
    peer.send(Self.request(5, bytes: 10))
    peer.send(Self.halfClose(5))
    let envelopes = Self.read(peer, statuses: 3)

    let none = Self.status(1, in: envelopes)
    #expect(none?.code == .invalidArgument)
    #expect(none?.message.contains("without a request message") == true)
    let two = Self.status(3, in: envelopes)
    #expect(two?.code == .invalidArgument)
    #expect(two?.message.contains("more than one request message") == true)
    #expect(Self.responses(1, in: envelopes) == 0 && Self.responses(3, in: envelopes) == 0)
    #expect(Self.status(5, in: envelopes)?.code == .ok)
    #expect(Self.responses(5, in: envelopes) == 1)
  }

  @Test("a response larger than the client accepts ends the call with RESOURCE_EXHAUSTED")
  func responseTooLarge() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    defer { Task { await server.shutdown(grace: .zero) } }
    let peer = try RawPeer(port: server.port)
    try peer.handshake(
      context: try mesh.clientContext(service: "gateway"),
      expecting: TestMesh.identity("knowledge"))
    var settings = Kp_Wire_V1_Settings()
    settings.maxFrameSize = 132
    peer.send(Self.envelope(0, .settings(settings)))

    peer.send(Self.start(1))
    peer.send(Self.request(1, bytes: 200))
    peer.send(Self.halfClose(1))
    peer.send(Self.start(3))
    peer.send(Self.request(3, bytes: 8))
    peer.send(Self.halfClose(3))
    let envelopes = Self.read(peer, statuses: 2)

    let large = Self.status(1, in: envelopes)
    #expect(large?.code == .resourceExhausted)
    #expect(large?.message.contains("100 bytes the peer accepts") == true)
    #expect(Self.responses(1, in: envelopes) == 0)
    #expect(Self.status(3, in: envelopes)?.code == .ok)
    #expect(Self.responses(3, in: envelopes) == 1)
  }

  @Test("a call that arrives with its time all but spent ends with DEADLINE_EXCEEDED, unanswered")
  func spentDeadline() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    defer { Task { await server.shutdown(grace: .zero) } }
    let peer = try RawPeer.meshClient(mesh, port: server.port)

    for id in [1, 3, 5] as [UInt64] {
      peer.send(Self.start(id, timeoutMicros: 1))
      peer.send(Self.request(id, bytes: 10))
      peer.send(Self.halfClose(id))
    }
    peer.send(Self.start(7))
    peer.send(Self.request(7, bytes: 10))
    peer.send(Self.halfClose(7))
    let envelopes = Self.read(peer, statuses: 4)

    for id in [1, 3, 5] as [UInt64] {
      #expect(Self.status(id, in: envelopes)?.code == .deadlineExceeded, "call \(id)")
      #expect(Self.responses(id, in: envelopes) == 0, "call \(id)")
    }
    #expect(Self.status(7, in: envelopes)?.code == .ok)
    #expect(Self.responses(7, in: envelopes) == 1)
  }

  @Test("a call whose request never completes ends at its deadline with DEADLINE_EXCEEDED")
  func incompleteRequest() async throws {
    let server = try mesh.startServer(service: "knowledge", offering: [EchoService()])
    defer { Task { await server.shutdown(grace: .zero) } }
    let peer = try RawPeer.meshClient(mesh, port: server.port)

    let began = ContinuousClock.now
    peer.send(Self.start(1, timeoutMicros: 300_000))
    peer.send(Self.request(1, bytes: 10))
    let envelopes = Self.read(peer, statuses: 1)
    let elapsed = ContinuousClock.now - began

    #expect(Self.status(1, in: envelopes)?.code == .deadlineExceeded)
    #expect(Self.responses(1, in: envelopes) == 0)
    #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(2), "after \(elapsed)")
  }
}
