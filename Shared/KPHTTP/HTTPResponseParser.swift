import CHTTPParser

/// Turns received bytes into one response with http-parser, for ``HTTPSClient``. Pure: no
/// sockets; the client feeds it bytes, then ``finish()`` when the server closes.
///
/// The body is bounded by `maximumBodySize` and the head by `maximumHeaderSize`; a response
/// over either is refused rather than buffered.
package final class HTTPResponseParser {
  /// What one call to ``parse(_:)`` or ``finish()`` found.
  package enum Outcome {
    /// Every byte was consumed; the response is not complete yet.
    case needMore
    /// The response is complete.
    case response(HTTPClientResponse)
    /// The bytes are not a valid response, or one too large.
    case failure(HTTPClientError)
  }

  private let maximumHeaderSize: Int
  private let maximumBodySize: Int
  private let parser: UnsafeMutablePointer<http_parser>
  private let settings: UnsafeMutablePointer<http_parser_settings>

  private var headers = HTTPHeaders()
  private var fieldName: [UInt8] = []
  private var fieldValue: [UInt8] = []
  private var readingValue = false
  private var headBytes = 0
  private var body: [UInt8] = []
  private var status = 0
  private var keepAlive = false
  private var completed: HTTPClientResponse?
  private var refusal: HTTPClientError?

  /// Whether the response belongs to a `HEAD` request, and so has no body whatever its
  /// headers say.
  package var isResponseToHEAD = false

  /// Makes a parser for one response.
  package init(maximumHeaderSize: Int, maximumBodySize: Int) {
    self.maximumHeaderSize = maximumHeaderSize
    self.maximumBodySize = maximumBodySize
    parser = .allocate(capacity: 1)
    http_parser_init(parser, HTTP_RESPONSE)
    settings = .allocate(capacity: 1)
    http_parser_settings_init(settings)
    Self.install(into: settings)
    parser.pointee.data = Unmanaged.passUnretained(self).toOpaque()
  }

  deinit {
    parser.deallocate()
    settings.deallocate()
  }

  /// Parses received bytes.
  package func parse(_ bytes: UnsafeRawBufferPointer) -> Outcome {
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return .needMore }
    http_parser_execute(parser, settings, base.assumingMemoryBound(to: CChar.self), bytes.count)
    return outcome()
  }

  /// Tells the parser the server closed the connection: a body delimited by the close ends
  /// here; any other unfinished response is an error.
  package func finish() -> Outcome {
    http_parser_execute(parser, settings, nil, 0)
    if case .needMore = outcome() {
      return .failure(
        HTTPClientError(.closed, "the server closed the connection before the response ended"))
    }
    return outcome()
  }

  private func outcome() -> Outcome {
    if let completed { return .response(completed) }
    if let refusal { return .failure(refusal) }
    let errorNumber = kp_http_parser_errno(parser)
    guard errorNumber == HPE_OK.rawValue || errorNumber == HPE_PAUSED.rawValue else {
      let description = String(
        cString: http_errno_description(http_errno(rawValue: errorNumber)))
      return .failure(
        HTTPClientError(.protocolError, "the response is not valid HTTP: \(description)"))
    }
    return .needMore
  }

  // MARK: Callbacks

  private func refuse(_ message: String) -> Int32 {
    refusal = HTTPClientError(.responseTooLarge, message)
    return 1
  }

  private func received(field bytes: UnsafeRawBufferPointer, isValue: Bool) -> Int32 {
    headBytes += bytes.count
    guard headBytes <= maximumHeaderSize else {
      return refuse("the response's header block is larger than \(maximumHeaderSize) bytes")
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
    headers.add(
      name: String(decoding: fieldName, as: UTF8.self),
      value: String(decoding: fieldValue, as: UTF8.self))
    fieldName.removeAll(keepingCapacity: true)
    fieldValue.removeAll(keepingCapacity: true)
    readingValue = false
  }

  private func headersCompleted() -> Int32 {
    commitField()
    status = Int(kp_http_parser_status_code(parser))
    if kp_http_parser_is_chunked(parser) == 0, headers.contains("content-length"),
      parser.pointee.content_length > UInt64(maximumBodySize)
    {
      _ = refuse("the response body is larger than \(maximumBodySize) bytes")
      return 3
    }
    // 1: the response has no body (HEAD).
    return isResponseToHEAD ? 1 : 0
  }

  private func received(body bytes: UnsafeRawBufferPointer) -> Int32 {
    guard body.count + bytes.count <= maximumBodySize else {
      return refuse("the response body is larger than \(maximumBodySize) bytes")
    }
    body.append(contentsOf: bytes)
    return 0
  }

  private func messageCompleted() -> Int32 {
    if (100..<200).contains(status) {
      // An interim response (100 Continue): the final one follows.
      headers = HTTPHeaders()
      headBytes = 0
      return 0
    }
    completed = HTTPClientResponse(
      status: status, headers: headers, body: body,
      keepAlive: http_should_keep_alive(parser) != 0)
    http_parser_pause(parser, 1)
    return 0
  }

  // MARK: C glue

  private static func install(into settings: UnsafeMutablePointer<http_parser_settings>) {
    settings.pointee.on_header_field = { parser, at, length in
      guard let parser, let at else { return 1 }
      return HTTPResponseParser.state(parser).received(
        field: UnsafeRawBufferPointer(start: at, count: length), isValue: false)
    }
    settings.pointee.on_header_value = { parser, at, length in
      guard let parser, let at else { return 1 }
      return HTTPResponseParser.state(parser).received(
        field: UnsafeRawBufferPointer(start: at, count: length), isValue: true)
    }
    settings.pointee.on_headers_complete = { parser in
      guard let parser else { return 3 }
      return HTTPResponseParser.state(parser).headersCompleted()
    }
    settings.pointee.on_body = { parser, at, length in
      guard let parser, let at else { return 1 }
      return HTTPResponseParser.state(parser).received(
        body: UnsafeRawBufferPointer(start: at, count: length))
    }
    settings.pointee.on_message_complete = { parser in
      guard let parser else { return 1 }
      return HTTPResponseParser.state(parser).messageCompleted()
    }
  }

  private static func state(_ parser: UnsafeMutablePointer<http_parser>) -> HTTPResponseParser {
    Unmanaged<HTTPResponseParser>.fromOpaque(parser.pointee.data).takeUnretainedValue()
  }
}
