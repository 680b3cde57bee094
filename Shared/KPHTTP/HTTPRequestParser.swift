import CHTTPParser

/// Turns received bytes into requests with http-parser, enforcing the size limits. Pure: no
/// sockets, no clocks; the connection feeds it bytes and acts on what it returns.
///
/// The parser pauses after each request's head (so the caller can answer `Expect:
/// 100-continue` before the body is sent) and after each complete request (so pipelined
/// requests stay unparsed in the caller's buffer until their turn). Memory held is bounded by
/// the limits: the head by `maximumHeaderSize` (plus one read), the body by `maximumBodySize`.
package final class HTTPRequestParser {
  /// A request's head, once its header block has arrived.
  package struct Head {
    package var method: HTTPMethod
    package var target: String
    package var headers: HTTPHeaders
    package var versionMajor: Int
    package var versionMinor: Int
    /// Whether the client asked for `100 Continue` before sending its body.
    package var expectsContinue: Bool
  }

  /// A complete request.
  package struct Message {
    package var head: Head
    package var body: [UInt8]
    /// Whether HTTP's rules let the connection stay open after this request.
    package var keepAlive: Bool
    /// Whether the client asked to switch protocols (or sent CONNECT); no request can follow.
    package var upgrade: Bool
  }

  /// What one call to ``parse(_:)`` found.
  package enum Outcome {
    /// Every byte was consumed; the request is not complete yet.
    case needMore
    /// The head is complete; call again with the bytes not consumed.
    case head(Head)
    /// A request is complete; bytes not consumed belong to the next one.
    case message(Message)
    /// The request is refused; the parser is finished.
    case failure(HTTPError)
  }

  private enum Section { case head, body }

  private let limits: HTTPServerLimits
  private let parser: UnsafeMutablePointer<http_parser>
  private let settings: UnsafeMutablePointer<http_parser_settings>

  private var section = Section.head
  private var url: [UInt8] = []
  private var headers = HTTPHeaders()
  private var fieldName: [UInt8] = []
  private var fieldValue: [UInt8] = []
  private var readingValue = false
  private var storedHeadBytes = 0
  private var consumedHeadBytes = 0
  private var trailerBytes = 0
  private var body: [UInt8] = []
  private var currentHead: Head?
  private var headPending = false
  private var completedMessage: Message?
  private var refusal: HTTPError?
  private var failure: HTTPError?

  /// Makes a parser for one connection's requests.
  package init(limits: HTTPServerLimits) {
    self.limits = limits
    parser = .allocate(capacity: 1)
    http_parser_init(parser, HTTP_REQUEST)
    settings = .allocate(capacity: 1)
    http_parser_settings_init(settings)
    Self.install(into: settings)
    parser.pointee.data = Unmanaged.passUnretained(self).toOpaque()
  }

  deinit {
    parser.deallocate()
    settings.deallocate()
  }

  /// Parses as much of `bytes` as belongs to the current request.
  ///
  /// - Returns: How many bytes were consumed and what was found.
  package func parse(_ bytes: UnsafeRawBufferPointer) -> (consumed: Int, outcome: Outcome) {
    if let failure { return (0, .failure(failure)) }
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return (0, .needMore) }

    let consumed = http_parser_execute(
      parser, settings, base.assumingMemoryBound(to: CChar.self), bytes.count)
    let errorNumber = kp_http_parser_errno(parser)

    if errorNumber == HPE_PAUSED.rawValue {
      http_parser_pause(parser, 0)
      if let message = completedMessage {
        completedMessage = nil
        return (consumed, .message(message))
      }
      if headPending, let head = currentHead {
        headPending = false
        consumedHeadBytes += consumed
        guard consumedHeadBytes <= limits.maximumHeaderSize + 1 else {
          return (consumed, .failure(fail(Self.headersTooLarge(limits))))
        }
        return (consumed, .head(head))
      }
    }
    guard errorNumber == HPE_OK.rawValue else {
      return (consumed, .failure(fail(refusal ?? Self.malformed(errorNumber))))
    }
    if section == .head {
      consumedHeadBytes += consumed
      if consumedHeadBytes > limits.maximumHeaderSize {
        return (consumed, .failure(fail(Self.headersTooLarge(limits))))
      }
    }
    if consumed < bytes.count {
      return (consumed, .failure(fail(.badRequest("the request asked for a protocol upgrade"))))
    }
    return (consumed, .needMore)
  }

  private func fail(_ error: HTTPError) -> HTTPError {
    failure = error
    return error
  }

  // MARK: Callbacks

  private func refuse(_ error: HTTPError) -> Int32 {
    refusal = error
    return 1
  }

  private func messageBegan() -> Int32 {
    section = .head
    url.removeAll(keepingCapacity: true)
    headers = HTTPHeaders()
    fieldName.removeAll(keepingCapacity: true)
    fieldValue.removeAll(keepingCapacity: true)
    readingValue = false
    storedHeadBytes = 0
    trailerBytes = 0
    body = []
    return 0
  }

  private func received(url bytes: UnsafeRawBufferPointer) -> Int32 {
    guard url.count + bytes.count <= min(limits.maximumURLLength, 65_535) else {
      return refuse(
        HTTPError(
          .uriTooLong, status: .uriTooLong,
          "the URL is longer than \(limits.maximumURLLength) bytes"))
    }
    url.append(contentsOf: bytes)
    return 0
  }

  private func received(field bytes: UnsafeRawBufferPointer, isValue: Bool) -> Int32 {
    if section == .body {
      // Trailers of a chunked body: counted against the header limit, then dropped.
      trailerBytes += bytes.count
      return trailerBytes > limits.maximumHeaderSize
        ? refuse(Self.headersTooLarge(limits)) : 0
    }
    storedHeadBytes += bytes.count
    guard storedHeadBytes + url.count <= limits.maximumHeaderSize else {
      return refuse(Self.headersTooLarge(limits))
    }
    if !isValue && readingValue { commitField() }
    readingValue = isValue
    if isValue {
      fieldValue.append(contentsOf: bytes)
    } else {
      fieldName.append(contentsOf: bytes)
    }
    return 0
  }

  private func commitField() {
    guard !fieldName.isEmpty else { return }
    var value = fieldValue[...]
    while let last = value.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
      value.removeLast()
    }
    headers.add(
      name: String(decoding: fieldName, as: UTF8.self),
      value: String(decoding: value, as: UTF8.self))
    fieldName.removeAll(keepingCapacity: true)
    fieldValue.removeAll(keepingCapacity: true)
    readingValue = false
  }

  private func headersCompleted() -> Int32 {
    commitField()
    let isChunked = kp_http_parser_is_chunked(parser) != 0
    if !isChunked, headers.contains("content-length") {
      let length = parser.pointee.content_length
      if length > UInt64(limits.maximumBodySize) {
        return refuse(Self.bodyTooLarge(limits))
      }
      body.reserveCapacity(Int(length))
    }

    let major = Int(parser.pointee.http_major)
    let minor = Int(parser.pointee.http_minor)
    guard major == 1 else {
      return refuse(
        HTTPError(
          .httpVersionNotSupported, status: .httpVersionNotSupported,
          "only HTTP/1.0 and HTTP/1.1 are served"))
    }
    let expectation = headers["expect"]?.lowercased()
    let method = String(
      cString: http_method_str(http_method(rawValue: kp_http_parser_method(parser))))
    currentHead = Head(
      method: HTTPMethod(rawValue: method),
      target: String(decoding: url, as: UTF8.self),
      headers: headers,
      versionMajor: major,
      versionMinor: minor,
      expectsContinue: expectation == "100-continue" && (major, minor) >= (1, 1))
    headPending = true
    section = .body
    http_parser_pause(parser, 1)
    return 0
  }

  private func received(body bytes: UnsafeRawBufferPointer) -> Int32 {
    guard body.count + bytes.count <= limits.maximumBodySize else {
      return refuse(Self.bodyTooLarge(limits))
    }
    body.append(contentsOf: bytes)
    return 0
  }

  private func messageCompleted() -> Int32 {
    guard let head = currentHead else { return 1 }
    currentHead = nil
    completedMessage = Message(
      head: head, body: body, keepAlive: http_should_keep_alive(parser) != 0,
      upgrade: kp_http_parser_upgrade(parser) != 0)
    body = []
    section = .head
    consumedHeadBytes = 0
    http_parser_pause(parser, 1)
    return 0
  }

  // MARK: C glue

  private static func install(into settings: UnsafeMutablePointer<http_parser_settings>) {
    settings.pointee.on_message_begin = { parser in
      guard let parser else { return 1 }
      return HTTPRequestParser.state(parser).messageBegan()
    }
    settings.pointee.on_url = { parser, at, length in
      guard let parser, let at else { return 1 }
      return HTTPRequestParser.state(parser).received(
        url: UnsafeRawBufferPointer(start: at, count: length))
    }
    settings.pointee.on_header_field = { parser, at, length in
      guard let parser, let at else { return 1 }
      return HTTPRequestParser.state(parser).received(
        field: UnsafeRawBufferPointer(start: at, count: length), isValue: false)
    }
    settings.pointee.on_header_value = { parser, at, length in
      guard let parser, let at else { return 1 }
      return HTTPRequestParser.state(parser).received(
        field: UnsafeRawBufferPointer(start: at, count: length), isValue: true)
    }
    settings.pointee.on_headers_complete = { parser in
      guard let parser else { return 3 }
      let result = HTTPRequestParser.state(parser).headersCompleted()
      return result == 0 ? 0 : 3
    }
    settings.pointee.on_body = { parser, at, length in
      guard let parser, let at else { return 1 }
      return HTTPRequestParser.state(parser).received(
        body: UnsafeRawBufferPointer(start: at, count: length))
    }
    settings.pointee.on_message_complete = { parser in
      guard let parser else { return 1 }
      return HTTPRequestParser.state(parser).messageCompleted()
    }
  }

  private static func state(_ parser: UnsafeMutablePointer<http_parser>) -> HTTPRequestParser {
    Unmanaged<HTTPRequestParser>.fromOpaque(parser.pointee.data).takeUnretainedValue()
  }

  // MARK: Errors

  private static func headersTooLarge(_ limits: HTTPServerLimits) -> HTTPError {
    HTTPError(
      .headersTooLarge, status: .requestHeaderFieldsTooLarge,
      "the request's header block is larger than \(limits.maximumHeaderSize) bytes")
  }

  private static func bodyTooLarge(_ limits: HTTPServerLimits) -> HTTPError {
    HTTPError(
      .payloadTooLarge, status: .contentTooLarge,
      "the request body is larger than \(limits.maximumBodySize) bytes")
  }

  private static func malformed(_ errorNumber: UInt32) -> HTTPError {
    if errorNumber == HPE_HEADER_OVERFLOW.rawValue {
      return HTTPError(
        .headersTooLarge, status: .requestHeaderFieldsTooLarge,
        "the request's header block is too large")
    }
    let name = String(cString: http_errno_name(http_errno(rawValue: errorNumber)))
    let description = String(cString: http_errno_description(http_errno(rawValue: errorNumber)))
    return .badRequest("malformed HTTP request: \(description) (\(name))")
  }
}
