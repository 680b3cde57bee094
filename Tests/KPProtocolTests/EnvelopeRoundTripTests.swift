import KPProtoRuntime
import KPProtocol
import Testing

@Suite("Envelope round trips")
struct EnvelopeRoundTripTests {
  static func envelope(_ kind: Kp_Wire_V1_Envelope.OneOf_Kind) -> Kp_Wire_V1_Envelope {
    var envelope = Kp_Wire_V1_Envelope()
    envelope.callId = 42
    envelope.kind = kind
    return envelope
  }

  static let kinds: [Kp_Wire_V1_Envelope.OneOf_Kind] = {
    var settings = Kp_Wire_V1_Settings()
    settings.maxFrameSize = 1 << 20
    settings.maxConcurrentCalls = 100
    settings.initialCallWindow = 65_536
    settings.minPingIntervalMs = 1_000

    var start = Kp_Wire_V1_CallStart()
    start.method = "/kp.health.v1.Health/Check"
    start.timeoutMicros = 5_000_000
    var trace = Kp_Wire_V1_MetadataEntry()
    trace.key = "trace-id"
    trace.value = .text("abc-123")
    var binary = Kp_Wire_V1_MetadataEntry()
    binary.key = "blob-bin"
    binary.value = .binary([0, 1, 2])
    var empty = Kp_Wire_V1_MetadataEntry()
    empty.key = "empty"
    empty.value = .text("")
    start.metadata = [trace, binary, empty]

    var payload = Kp_Wire_V1_Payload()
    payload.data = Array(repeating: 0xAB, count: 100)

    var cancel = Kp_Wire_V1_Cancel()
    cancel.reason = "client gave up"

    var status = Kp_Wire_V1_Status()
    status.code = .deadlineExceeded
    status.message = "deadline exceeded after 5 s"
    status.trailers = [trace]

    var ping = Kp_Wire_V1_Ping()
    ping.opaque = 7
    var pong = Kp_Wire_V1_Pong()
    pong.opaque = 7

    var goaway = Kp_Wire_V1_GoAway()
    goaway.lastCallId = 41
    goaway.code = .unavailable
    goaway.reason = "shutting down"

    var window = Kp_Wire_V1_WindowUpdate()
    window.increment = 65_536

    return [
      .settings(settings), .start(start), .payload(payload), .halfClose(Kp_Wire_V1_HalfClose()),
      .cancel(cancel), .status(status), .ping(ping), .pong(pong), .goaway(goaway),
      .windowUpdate(window), .payload(Kp_Wire_V1_Payload()), .status(Kp_Wire_V1_Status()),
    ]
  }()

  @Test("Every envelope kind survives", arguments: kinds)
  func everyKind(kind: Kp_Wire_V1_Envelope.OneOf_Kind) throws {
    let envelope = Self.envelope(kind)
    let decoded = try Kp_Wire_V1_Envelope(serializedBytes: envelope.serializedBytes())
    #expect(decoded == envelope)
    #expect(decoded.kind == kind)
  }

  @Test func connectionLevelFramesHaveCallIDZero() throws {
    var envelope = Kp_Wire_V1_Envelope()
    envelope.kind = .ping(Kp_Wire_V1_Ping())
    let decoded = try Kp_Wire_V1_Envelope(serializedBytes: envelope.serializedBytes())
    #expect(decoded.callId == 0)
    #expect(decoded.kind == .ping(Kp_Wire_V1_Ping()))
  }

  @Test func messageNamesAreTheProtobufNames() {
    #expect(Kp_Wire_V1_Envelope.protoMessageName == "kp.wire.v1.Envelope")
    #expect(
      Kp_Health_V1_HealthCheckResponse.protoMessageName == "kp.health.v1.HealthCheckResponse")
    #expect(Kp_Testing_V1_AllKinds.Inner.protoMessageName == "kp.testing.v1.AllKinds.Inner")
  }
}
