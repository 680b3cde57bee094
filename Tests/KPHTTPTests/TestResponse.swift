import CHTTPParser
import KPHTTP

/// One response as a test client read it, parsed by http-parser.
struct TestResponse: Sendable {
  var status: Int
  var headers: HTTPHeaders
  var body: [UInt8]
  /// Whether HTTP's rules say the connection stays open after it.
  var keepAlive: Bool

  var text: String { String(decoding: body, as: UTF8.self) }
}

/// Splits received bytes into responses with http-parser in response mode.
final class TestResponseReader {
  private let parser = UnsafeMutablePointer<http_parser>.allocate(capacity: 1)
  private let settings = UnsafeMutablePointer<http_parser_settings>.allocate(capacity: 1)
  private var buffered: [UInt8] = []
  private var headers = HTTPHeaders()
  private var name: [UInt8] = []
  private var value: [UInt8] = []
  private var body: [UInt8] = []
  private var done: TestResponse?
  private(set) var failed = false
  /// Set before reading the answer to a HEAD request, whose length describes no body.
  var skipsBody = false

  init() {
    http_parser_init(parser, HTTP_RESPONSE)
    http_parser_settings_init(settings)
    parser.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    settings.pointee.on_header_field = { parser, at, length in
      let reader = TestResponseReader.of(parser)
      if !reader.value.isEmpty { reader.commit() }
      reader.name.append(contentsOf: UnsafeRawBufferPointer(start: at, count: length))
      return 0
    }
    settings.pointee.on_header_value = { parser, at, length in
      TestResponseReader.of(parser).value.append(
        contentsOf: UnsafeRawBufferPointer(start: at, count: length))
      return 0
    }
    settings.pointee.on_headers_complete = { parser in
      let reader = TestResponseReader.of(parser)
      reader.commit()
      return reader.skipsBody ? 1 : 0
    }
    settings.pointee.on_body = { parser, at, length in
      TestResponseReader.of(parser).body.append(
        contentsOf: UnsafeRawBufferPointer(start: at, count: length))
      return 0
    }
    settings.pointee.on_message_complete = { parser in
      guard let parser else { return 1 }
      let reader = TestResponseReader.of(parser)
      reader.done = TestResponse(
        status: Int(parser.pointee.status_code), headers: reader.headers, body: reader.body,
        keepAlive: http_should_keep_alive(parser) != 0)
      reader.headers = HTTPHeaders()
      reader.body = []
      http_parser_pause(parser, 1)
      return 0
    }
  }

  deinit {
    parser.deallocate()
    settings.deallocate()
  }

  private static func of(_ parser: UnsafeMutablePointer<http_parser>?) -> TestResponseReader {
    Unmanaged<TestResponseReader>.fromOpaque(parser!.pointee.data).takeUnretainedValue()
  }

  private func commit() {
    guard !name.isEmpty else { return }
    headers.add(
      name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    name = []
    value = []
  }

  /// Adds received bytes.
  func append(_ bytes: UnsafeRawBufferPointer) {
    buffered.append(contentsOf: bytes)
  }

  /// The next complete response, if the bytes so far hold one.
  func next() -> TestResponse? {
    guard !failed, !buffered.isEmpty || done != nil else { return takeDone() }
    let consumed = buffered.withUnsafeBufferPointer { bytes in
      bytes.withMemoryRebound(to: CChar.self) {
        http_parser_execute(parser, settings, $0.baseAddress, $0.count)
      }
    }
    buffered.removeFirst(consumed)
    let error = kp_http_parser_errno(parser)
    if error == HPE_PAUSED.rawValue {
      http_parser_pause(parser, 0)
    } else if error != 0 {
      failed = true
    }
    return takeDone()
  }

  private func takeDone() -> TestResponse? {
    defer { done = nil }
    return done
  }
}
