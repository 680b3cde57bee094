import CPoppler

/// Normalises `application/pdf` through poppler: the text of each page, split into paragraphs
/// at blank lines, each block knowing its page.
///
/// The title is the source's, else the PDF's own title metadata, else the first heading
/// (a PDF yields none). Pages past ``NormalizationLimits/maximumPDFPages`` are not read and the
/// document is marked truncated.
public struct PDFNormalizer: DocumentNormalizer {
  /// Creates the normaliser.
  public init() {}

  /// `application/pdf`.
  public var mediaTypes: [String] { ["application/pdf"] }

  /// Opens the PDF from memory and extracts each page's text.
  ///
  /// - Throws: ``DocumentError``: ``DocumentError/Code/malformedDocument`` when poppler cannot
  ///   read the file, ``DocumentError/Code/encryptedDocument`` when it needs a password,
  ///   ``DocumentError/Code/emptyDocument`` when no page has text (a scanned document without
  ///   a text layer, say).
  public func normalize(
    _ input: DocumentInput,
    as mediaType: MediaType,
    limits: NormalizationLimits
  ) throws(DocumentError) -> NormalizedDocument {
    guard input.data.starts(with: Array("%PDF-".utf8)) || Self.findsHeader(in: input.data) else {
      throw DocumentError(
        code: .malformedDocument,
        message: "the application/pdf document has no %PDF- header; it is not a PDF file")
    }

    let document = try Self.open(input.data)
    defer { kp_poppler_release(UnsafeMutableRawPointer(document)) }

    var builder = DocumentBuilder(maximumCharacters: limits.maximumOutputCharacters)
    let pageCount = Int(poppler_document_get_n_pages(document))
    for index in 0..<min(pageCount, limits.maximumPDFPages) {
      guard let page = poppler_document_get_page(document, Int32(index)) else {
        continue
      }
      defer { kp_poppler_release(UnsafeMutableRawPointer(page)) }
      guard let text = poppler_page_get_text(page) else {
        continue
      }
      defer { g_free(text) }
      // Blank lines separate paragraphs; form feeds end the page's last line.
      builder.begin(.paragraph, page: index + 1)
      builder.appendParagraphs(String(cString: text).replacingFormFeeds())
      if builder.isTruncated {
        break
      }
    }

    if pageCount > limits.maximumPDFPages {
      builder.markTruncated()
    }

    var metadataTitle: String?
    if let title = poppler_document_get_title(document) {
      metadataTitle = String(cString: title)
      g_free(title)
    }
    return try builder.finish(
      sourceTitle: input.title, contentTitle: metadataTitle, contentType: mediaType.essence)
  }

  /// PDF readers accept the header within the first kilobyte, after other bytes.
  private static func findsHeader(in data: [UInt8]) -> Bool {
    let head = data.prefix(1024)
    let marker = Array("%PDF-".utf8)
    guard head.count >= marker.count else {
      return false
    }
    return (0...(head.count - marker.count)).contains {
      head[$0..<$0 + marker.count].elementsEqual(marker)
    }
  }

  /// Opens the PDF, turning poppler's error into a ``DocumentError``.
  private static func open(_ data: [UInt8]) throws(DocumentError) -> OpaquePointer {
    let bytes = data.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }
    defer { g_bytes_unref(bytes) }

    var error: UnsafeMutablePointer<GError>?
    if let document = poppler_document_new_from_bytes(bytes, nil, &error) {
      return document
    }
    defer { g_error_free(error) }

    let reason = error.flatMap { $0.pointee.message }.map { String(cString: $0) } ?? "unknown"
    let encrypted =
      error?.pointee.domain == poppler_error_quark()
      && error?.pointee.code == Int32(POPPLER_ERROR_ENCRYPTED.rawValue)
    if encrypted {
      throw DocumentError(
        code: .encryptedDocument,
        message: "the PDF is encrypted with a password; send a copy without one")
    }
    throw DocumentError(
      code: .malformedDocument,
      message: "the PDF cannot be read (\(reason)); it may be damaged or truncated")
  }
}

extension String {
  /// The text with form feeds (which poppler puts between pages) turned into line breaks.
  fileprivate func replacingFormFeeds() -> String {
    guard utf8.contains(0x0C) else {
      return self
    }
    return String(String.UnicodeScalarView(unicodeScalars.map { $0 == "\u{0C}" ? "\n" : $0 }))
  }
}
