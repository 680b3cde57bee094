/// The limits every normaliser works within, so that a hostile or accidental document cannot
/// exhaust a worker's memory or time.
public struct NormalizationLimits: Sendable, Hashable {
  /// The largest document accepted, in bytes, checked before any parsing.
  ///
  /// Default: 16 MiB. Environment: `KP_INGEST_MAX_DOCUMENT_BYTES`.
  public var maximumInputBytes: Int

  /// The most text kept from one document, in Unicode scalars; text past it is dropped and the
  /// document is marked ``NormalizedDocument/isTruncated``.
  ///
  /// Default: 4,000,000. Environment: `KP_INGEST_MAX_DOCUMENT_CHARACTERS`.
  public var maximumOutputCharacters: Int

  /// The deepest HTML element nesting kept; tags nested deeper are dropped (their text is
  /// kept) before the HTML parser sees them.
  ///
  /// Default: 256. Environment: `KP_INGEST_MAX_HTML_DEPTH`.
  public var maximumHTMLDepth: Int

  /// The most PDF pages whose text is extracted; later pages are dropped and the document is
  /// marked ``NormalizedDocument/isTruncated``.
  ///
  /// Default: 5,000. Environment: `KP_INGEST_MAX_PDF_PAGES`.
  public var maximumPDFPages: Int

  /// Creates limits; every argument has the documented default.
  ///
  /// - Parameters:
  ///   - maximumInputBytes: The largest document accepted, in bytes.
  ///   - maximumOutputCharacters: The most text kept from one document.
  ///   - maximumHTMLDepth: The deepest HTML nesting kept.
  ///   - maximumPDFPages: The most PDF pages read.
  public init(
    maximumInputBytes: Int = 16 << 20,
    maximumOutputCharacters: Int = 4_000_000,
    maximumHTMLDepth: Int = 256,
    maximumPDFPages: Int = 5_000
  ) {
    self.maximumInputBytes = maximumInputBytes
    self.maximumOutputCharacters = maximumOutputCharacters
    self.maximumHTMLDepth = maximumHTMLDepth
    self.maximumPDFPages = maximumPDFPages
  }

  /// Checks that every limit is positive.
  ///
  /// - Throws: ``DocumentError`` with code ``DocumentError/Code/invalidConfiguration`` naming
  ///   the first limit that is not.
  public func validate() throws(DocumentError) {
    let settings = [
      ("maximumInputBytes", maximumInputBytes),
      ("maximumOutputCharacters", maximumOutputCharacters),
      ("maximumHTMLDepth", maximumHTMLDepth),
      ("maximumPDFPages", maximumPDFPages),
    ]
    for (name, value) in settings where value < 1 {
      throw DocumentError(
        code: .invalidConfiguration,
        message: "\(name) is \(value); it must be at least 1")
    }
  }
}
