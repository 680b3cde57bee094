import CCmarkGFM

/// Normalises `text/markdown` (CommonMark with GitHub's extensions) through cmark-gfm.
///
/// Headings become heading blocks with their level; paragraphs, list items, code blocks and
/// table rows become paragraphs. Raw HTML is dropped. The title is the source's, else the
/// first heading.
public struct MarkdownNormalizer: DocumentNormalizer {
  /// Creates the normaliser.
  public init() {}

  /// `text/markdown` and the older `text/x-markdown`.
  public var mediaTypes: [String] { ["text/markdown", "text/x-markdown"] }

  /// Parses the Markdown and walks its tree without recursion.
  ///
  /// - Throws: ``DocumentError`` for a charset other than UTF-8, invalid UTF-8, or no text.
  public func normalize(
    _ input: DocumentInput,
    as mediaType: MediaType,
    limits: NormalizationLimits
  ) throws(DocumentError) -> NormalizedDocument {
    try UTF8Validation.checkCharset(of: mediaType)
    var text = try UTF8Validation.decode(input.data, contentType: mediaType.essence)

    _ = Self.extensionsRegistered
    guard let parser = cmark_parser_new(CMARK_OPT_DEFAULT) else {
      throw DocumentError(
        code: .malformedDocument, message: "the Markdown parser could not start (out of memory)")
    }
    defer { cmark_parser_free(parser) }
    for name in ["table", "strikethrough", "autolink", "tasklist"] {
      if let syntax = cmark_find_syntax_extension(name) {
        cmark_parser_attach_syntax_extension(parser, syntax)
      }
    }
    text.withUTF8 { bytes in
      guard let base = bytes.baseAddress else {
        return
      }
      base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
        cmark_parser_feed(parser, $0, bytes.count)
      }
    }
    guard let root = cmark_parser_finish(parser) else {
      throw DocumentError(
        code: .malformedDocument, message: "the Markdown parser failed (out of memory)")
    }
    defer { cmark_node_free(root) }

    var builder = DocumentBuilder(maximumCharacters: limits.maximumOutputCharacters)
    Self.walk(root, into: &builder)
    return try builder.finish(
      sourceTitle: input.title, contentTitle: nil, contentType: mediaType.essence)
  }

  /// Registers cmark-gfm's extensions once per process, before any parser looks them up.
  private static let extensionsRegistered: Bool = {
    cmark_gfm_core_extensions_ensure_registered()
    return true
  }()

  /// Visits every node with cmark's iterator (which keeps its own stack), collecting text.
  private static func walk(_ root: OpaquePointer, into builder: inout DocumentBuilder) {
    guard let iterator = cmark_iter_new(root) else {
      return
    }
    defer { cmark_iter_free(iterator) }

    while true {
      let event = cmark_iter_next(iterator)
      if event == CMARK_EVENT_DONE || builder.isTruncated {
        return
      }
      guard let node = cmark_iter_get_node(iterator) else {
        continue
      }
      let entering = event == CMARK_EVENT_ENTER
      let type = cmark_node_get_type(node)
      switch type {
      case CMARK_NODE_HEADING:
        if entering {
          builder.begin(.heading(level: Int(cmark_node_get_heading_level(node))))
        } else {
          builder.endBlock()
        }
      case CMARK_NODE_PARAGRAPH:
        if entering {
          builder.begin(.paragraph)
        } else {
          builder.endBlock()
        }
      case CMARK_NODE_CODE_BLOCK:
        builder.begin(.paragraph)
        appendLiteral(of: node, to: &builder)
        builder.endBlock()
      case CMARK_NODE_TEXT, CMARK_NODE_CODE:
        appendLiteral(of: node, to: &builder)
      case CMARK_NODE_SOFTBREAK, CMARK_NODE_LINEBREAK:
        builder.append(" ")
      case CMARK_NODE_HTML_BLOCK, CMARK_NODE_HTML_INLINE, CMARK_NODE_THEMATIC_BREAK,
        CMARK_NODE_DOCUMENT, CMARK_NODE_BLOCK_QUOTE, CMARK_NODE_LIST, CMARK_NODE_ITEM,
        CMARK_NODE_EMPH, CMARK_NODE_STRONG, CMARK_NODE_LINK, CMARK_NODE_IMAGE:
        break
      default:
        walkExtensionNode(node, entering: entering, into: &builder)
      }
    }
  }

  /// Table rows become paragraphs with their cells separated by spaces.
  private static func walkExtensionNode(
    _ node: OpaquePointer,
    entering: Bool,
    into builder: inout DocumentBuilder
  ) {
    guard let name = cmark_node_get_type_string(node) else {
      return
    }
    switch String(cString: name) {
    case "table_row":
      if entering {
        builder.begin(.paragraph)
      } else {
        builder.endBlock()
      }
    case "table_cell":
      builder.append(" ")
    default:
      break
    }
  }

  /// Appends a leaf node's text.
  private static func appendLiteral(of node: OpaquePointer, to builder: inout DocumentBuilder) {
    if let literal = cmark_node_get_literal(node) {
      builder.append(cString: literal)
    }
  }
}
