import KPProtoRuntime
import KPProtocol
import Testing

@Suite("Round trips over every field kind")
struct AllKindsRoundTripTests {
  typealias AllKinds = Kp_Testing_V1_AllKinds
  typealias Point = Kp_Testing_V1_Point

  static func roundTrip<M: ProtoMessage>(_ message: M) throws -> M {
    try M(serializedBytes: message.serializedBytes())
  }

  static func everything() -> AllKinds {
    var message = AllKinds()
    message.text = "Grüße, 東京 🚀"
    message.data = [0, 1, 2, 0xFF, 0x80]
    message.flag = true
    message.i32 = -123_456
    message.i64 = Int64.min
    message.u32 = UInt32.max
    message.u64 = UInt64.max
    message.s32 = Int32.min
    message.s64 = -1
    message.f32 = 0xDEAD_BEEF
    message.f64 = 0x0123_4567_89AB_CDEF
    message.sf32 = -7
    message.sf64 = Int64.max
    message.real = -2.5e300
    message.ratio = 0.125
    message.color = .green
    message.mode = .safe
    message.numbers = [0, -1, 1, Int64.max, Int64.min]
    message.names = ["", "ascii", "ünïcödé", "日本語"]
    message.blobs = [[], [1], Array(repeating: 7, count: 300)]
    message.points = [Point(), Point(x: 1, y: -1, label: "a")]
    message.colors = [.red, .blue, Kp_Testing_V1_Color(rawValue: 99)]
    message.labels = ["k": "v", "": "empty key", "ключ": "значение"]
    message.namedPoints = ["origin": Point(), "p": Point(x: 3, y: 4, label: "🚀")]
    message.byId = [-5: "minus five", 0: "zero", 1 << 40: "big"]
    message.colorByCode = [1: .red, 2: Kp_Testing_V1_Color(rawValue: -3)]
    message.origin = Point(x: 10, y: 20, label: "origin")
    var inner = AllKinds.Inner()
    inner.name = "inner"
    inner.values = [1, 2, 3]
    message.inner = inner
    message.choice = .word("chosen")
    message.default = "keyword field"
    message.samples = [0, -0.5, .infinity, 1e-300]
    message.byFlag = [true: "yes", false: "no"]
    return message
  }

  @Test func everyFieldKindSurvivesARoundTrip() throws {
    let message = Self.everything()
    let decoded = try Self.roundTrip(message)
    #expect(decoded == message)
    #expect(decoded.text == "Grüße, 東京 🚀")
    #expect(decoded.colors[2].rawValue == 99)
  }

  @Test func aDefaultMessageEncodesToNothing() throws {
    #expect(AllKinds().serializedBytes().isEmpty)
    let decoded = try AllKinds(serializedBytes: [UInt8]())
    #expect(decoded == AllKinds())
    #expect(decoded.origin == nil)
    #expect(decoded.choice == nil)
  }

  @Test func unsetMessageFieldsStayNilAndEmptyOnesStayPresent() throws {
    var message = AllKinds()
    message.inner = AllKinds.Inner()
    let decoded = try Self.roundTrip(message)
    #expect(decoded.origin == nil)
    #expect(decoded.inner == AllKinds.Inner())
    #expect(message.serializedBytes() == [0xE2, 0x01, 0x00])
  }

  @Test(
    "Every oneof case survives, at its default value too",
    arguments: [
      AllKinds.OneOf_Choice.point(Point()),
      .point(Point(x: 1, y: 2, label: "p")),
      .word(""),
      .word("Grüße"),
      .raw([]),
      .raw([0, 0xFF]),
      .count(0),
      .count(UInt64.max),
    ])
  func oneofCases(choice: AllKinds.OneOf_Choice) throws {
    var message = AllKinds()
    message.choice = choice
    #expect(!message.serializedBytes().isEmpty)
    #expect(try Self.roundTrip(message).choice == choice)
  }

  @Test func theLastOneofMemberOnTheWireWins() throws {
    var word = AllKinds()
    word.choice = .word("first")
    var count = AllKinds()
    count.choice = .count(9)
    let decoded = try AllKinds(serializedBytes: word.serializedBytes() + count.serializedBytes())
    #expect(decoded.choice == .count(9))
  }

  @Test func unknownEnumValuesRoundTrip() throws {
    var message = AllKinds()
    message.color = Kp_Testing_V1_Color(rawValue: 12_345)
    message.mode = AllKinds.Mode(rawValue: -1)
    let decoded = try Self.roundTrip(message)
    #expect(decoded.color.rawValue == 12_345)
    #expect(decoded.mode.rawValue == -1)
    #expect(decoded.color.description == "12345")
    #expect(Kp_Testing_V1_Color.blue.description == "COLOR_BLUE")
  }

  @Test func largeBytesSurvive() throws {
    var message = AllKinds()
    message.data = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    message.text = String(repeating: "ü", count: 100_000)
    let decoded = try Self.roundTrip(message)
    #expect(decoded.data == message.data)
    #expect(decoded.text == message.text)
  }

  @Test func mapsEncodeTheSameWayWhateverTheInsertionOrder() throws {
    var first = AllKinds()
    var second = AllKinds()
    for key in 0..<50 {
      first.labels["key\(key)"] = "value\(key)"
      first.byId[Int64(key) - 25] = "\(key)"
    }
    for key in (0..<50).reversed() {
      second.labels["key\(key)"] = "value\(key)"
      second.byId[Int64(key) - 25] = "\(key)"
    }
    #expect(first.serializedBytes() == second.serializedBytes())
    #expect(try Self.roundTrip(first) == first)
  }

  @Test func appendingKeepsWhatTheBufferHeld() throws {
    let message = Self.everything()
    var buffer: [UInt8] = [9, 9, 9]
    message.appendSerialized(to: &buffer)
    #expect(Array(buffer.prefix(3)) == [9, 9, 9])
    #expect(Array(buffer.dropFirst(3)) == message.serializedBytes())
    let decoded = try buffer.dropFirst(3).withUnsafeBytes { bytes in
      try AllKinds(serializedBytes: bytes)
    }
    #expect(decoded == message)
  }

  @Test func messagesFromOtherFilesNest() throws {
    var request = Kp_Testing_V1_EchoRequest()
    request.payload = Array("Grüße".utf8)
    request.sleepMs = 5
    request.count = 3
    request.failCode = .deadlineExceeded
    request.failMessage = "too slow"
    #expect(try Self.roundTrip(request) == request)

    var batch = Kp_Agent_V1_ChangeBatch()
    var document = Kp_Ingest_V1_IngestDocument()
    document.operation = .upsert
    document.content = Array("# Title\n\nBody".utf8)
    document.attributes = ["author": "Zoë"]
    batch.documents = [document, document]
    batch.cursor = [1, 2, 3]
    var message = Kp_Agent_V1_AgentMessage()
    message.kind = .changes(batch)
    #expect(try Self.roundTrip(message) == message)
  }
}

extension Kp_Testing_V1_Point {
  init(x: Int32, y: Int32, label: String) {
    self.init()
    self.x = x
    self.y = y
    self.label = label
  }
}
