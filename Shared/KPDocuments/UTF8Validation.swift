/// Decodes bytes that must be UTF-8, refusing them with a clear error when they are not.
enum UTF8Validation {
  /// The bytes as a string, without a leading byte-order mark.
  ///
  /// - Parameters:
  ///   - bytes: The document's bytes.
  ///   - contentType: The media type, named in the error.
  /// - Throws: ``DocumentError/Code/invalidUTF8`` with the offset of the first bad byte.
  static func decode(_ bytes: [UInt8], contentType: String) throws(DocumentError) -> String {
    var body = bytes[...]
    if body.starts(with: [0xEF, 0xBB, 0xBF]) {
      body = body.dropFirst(3)
    }
    if let text = String(validating: body, as: UTF8.self) {
      return text
    }
    let offset = (firstInvalidOffset(in: body) ?? 0) + (bytes.count - body.count)
    throw DocumentError(
      code: .invalidUTF8,
      message: "the \(contentType) document is not valid UTF-8 (first bad byte at offset "
        + "\(offset)); convert it to UTF-8 before sending it")
  }

  /// Checks a media type's charset parameter: only UTF-8 (and its subset US-ASCII) are read.
  ///
  /// - Throws: ``DocumentError/Code/unsupportedContentType`` naming the charset.
  static func checkCharset(of mediaType: MediaType) throws(DocumentError) {
    guard let charset = mediaType.charset else {
      return
    }
    if ["utf-8", "utf8", "us-ascii", "ascii"].contains(charset) {
      return
    }
    throw DocumentError(
      code: .unsupportedContentType,
      message: "charset \"\(charset)\" of \(mediaType.essence) is not supported; send the "
        + "document as UTF-8")
  }

  /// The offset of the first byte that breaks UTF-8, relative to the slice's start.
  private static func firstInvalidOffset(in bytes: ArraySlice<UInt8>) -> Int? {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    var offset = 0
    var consumed = 0
    // The decoder does not say how many bytes a scalar used, so re-measure each one.
    while true {
      switch decoder.decode(&iterator) {
      case .scalarValue(let scalar):
        consumed += UTF8.width(scalar)
        offset = consumed
      case .emptyInput:
        return nil
      case .error:
        return offset
      }
    }
  }
}
