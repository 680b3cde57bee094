/// Normalises `text/plain`: paragraphs are separated by blank lines, and lines within a
/// paragraph are joined.
public struct PlainTextNormalizer: DocumentNormalizer {
  /// Creates the normaliser.
  public init() {}

  /// `text/plain`.
  public var mediaTypes: [String] { ["text/plain"] }

  /// Splits the text into paragraphs at blank lines; the title is the source's, if any.
  ///
  /// - Throws: ``DocumentError`` for a charset other than UTF-8, invalid UTF-8, or no text.
  public func normalize(
    _ input: DocumentInput,
    as mediaType: MediaType,
    limits: NormalizationLimits
  ) throws(DocumentError) -> NormalizedDocument {
    try UTF8Validation.checkCharset(of: mediaType)
    let text = try UTF8Validation.decode(input.data, contentType: mediaType.essence)

    var builder = DocumentBuilder(maximumCharacters: limits.maximumOutputCharacters)
    builder.appendParagraphs(text)
    return try builder.finish(
      sourceTitle: input.title, contentTitle: nil, contentType: mediaType.essence)
  }
}
