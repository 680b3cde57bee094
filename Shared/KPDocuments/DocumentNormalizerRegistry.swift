/// The normalisers by content type: picks the one for a document's declared type, checks the
/// size limit before any parsing, and hands the document over.
public struct DocumentNormalizerRegistry: Sendable {
  /// The limits every document is held to.
  public var limits: NormalizationLimits

  private var normalizers: [String: any DocumentNormalizer] = [:]

  /// A registry with no normalisers.
  ///
  /// - Parameter limits: The limits every document is held to.
  /// - Throws: ``DocumentError/Code/invalidConfiguration`` when a limit is not positive.
  public init(limits: NormalizationLimits = NormalizationLimits()) throws(DocumentError) {
    try limits.validate()
    self.limits = limits
  }

  /// A registry with the platform's normalisers: `text/plain`, `text/markdown`, `text/html`
  /// (and `application/xhtml+xml`) and `application/pdf`.
  ///
  /// - Parameter limits: The limits every document is held to.
  /// - Throws: ``DocumentError/Code/invalidConfiguration`` when a limit is not positive.
  public static func standard(
    limits: NormalizationLimits = NormalizationLimits()
  ) throws(DocumentError) -> DocumentNormalizerRegistry {
    var registry = try DocumentNormalizerRegistry(limits: limits)
    registry.register(PlainTextNormalizer())
    registry.register(MarkdownNormalizer())
    registry.register(HTMLNormalizer())
    registry.register(PDFNormalizer())
    return registry
  }

  /// Registers a normaliser for each of its media types, replacing any registered before.
  ///
  /// - Parameter normalizer: The normaliser.
  public mutating func register(_ normalizer: some DocumentNormalizer) {
    for mediaType in normalizer.mediaTypes {
      normalizers[mediaType.lowercased()] = normalizer
    }
  }

  /// The media types that have a normaliser, sorted.
  public var supportedMediaTypes: [String] { normalizers.keys.sorted() }

  /// Normalises one document.
  ///
  /// - Parameter input: The document.
  /// - Returns: The normalised document.
  /// - Throws: ``DocumentError``: ``DocumentError/Code/unsupportedContentType`` for a type with
  ///   no normaliser, ``DocumentError/Code/tooLarge`` past the size limit, or whatever the
  ///   normaliser finds wrong.
  public func normalize(_ input: DocumentInput) throws(DocumentError) -> NormalizedDocument {
    guard let mediaType = MediaType(parsing: input.contentType) else {
      throw DocumentError(
        code: .unsupportedContentType,
        message: "content type \"\(Self.printable(input.contentType))\" is not a media type "
          + "such as text/html; use one of \(supportedMediaTypes.joined(separator: ", "))")
    }
    guard let normalizer = normalizers[mediaType.essence] else {
      throw DocumentError(
        code: .unsupportedContentType,
        message: "content type \(mediaType.essence) is not supported; use one of "
          + supportedMediaTypes.joined(separator: ", "))
    }
    guard input.data.count <= limits.maximumInputBytes else {
      throw DocumentError(
        code: .tooLarge,
        message: "the document is \(input.data.count) bytes, over the limit of "
          + "\(limits.maximumInputBytes) bytes; split it or raise the limit")
    }
    return try normalizer.normalize(input, as: mediaType, limits: limits)
  }

  /// A content type shortened and stripped of control characters, safe to put in a message.
  private static func printable(_ text: String) -> String {
    let cleaned = String(
      String.UnicodeScalarView(
        text.unicodeScalars.prefix(80).map {
          $0.value < 0x20 || $0.value == 0x7F ? "?" : $0
        }))
    return text.unicodeScalars.count > 80 ? cleaned + "…" : cleaned
  }
}
