import CGumbo

/// Normalises `text/html` through gumbo, the HTML5 parser.
///
/// The text of the page's content is kept; what is not content is dropped: scripts, styles,
/// forms' controls, embedded objects, navigation (`<nav>`, `<aside>`, elements with an ARIA
/// role such as `navigation` or `banner`, or a class or id such as `navbar` or `breadcrumb`),
/// hidden elements, and a page's `<header>` and `<footer>` (those inside an `<article>`,
/// `<main>` or `<section>` are kept: there they hold the article's own heading). Headings
/// `<h1>`–`<h6>` become heading blocks; other block elements (paragraphs, list items, table
/// rows, divisions) become paragraphs. Entities are decoded and whitespace collapsed. The
/// title is the source's, else `<title>`, else the first heading.
///
/// Before parsing, ``HTMLNestingGuard`` caps nesting at
/// ``NormalizationLimits/maximumHTMLDepth``, and the tree is walked without recursion.
public struct HTMLNormalizer: DocumentNormalizer {
  /// Creates the normaliser.
  public init() {}

  /// `text/html` and `application/xhtml+xml`.
  public var mediaTypes: [String] { ["text/html", "application/xhtml+xml"] }

  /// Parses the HTML and collects the content's text.
  ///
  /// - Throws: ``DocumentError`` for a charset other than UTF-8, invalid UTF-8, or no text.
  public func normalize(
    _ input: DocumentInput,
    as mediaType: MediaType,
    limits: NormalizationLimits
  ) throws(DocumentError) -> NormalizedDocument {
    try UTF8Validation.checkCharset(of: mediaType)
    _ = try UTF8Validation.decode(input.data, contentType: mediaType.essence)

    let html = HTMLNestingGuard(maximumDepth: limits.maximumHTMLDepth).rewrite(input.data)
    var builder = DocumentBuilder(maximumCharacters: limits.maximumOutputCharacters)
    var title: String?
    html.withUnsafeBufferPointer { bytes in
      guard let start = bytes.baseAddress, bytes.count > 0 else {
        return
      }
      var options = kGumboDefaultOptions
      options.max_errors = 0
      let parsed = start.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
        gumbo_parse_with_options(&options, $0, bytes.count)
      }
      guard let parsed else {
        return
      }
      defer { gumbo_destroy_output(&options, parsed) }
      var walker = HTMLTreeWalker()
      walker.walk(parsed.pointee.document, into: &builder)
      title = walker.title
    }
    return try builder.finish(
      sourceTitle: input.title, contentTitle: title, contentType: mediaType.essence)
  }
}
