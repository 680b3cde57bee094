import CGumbo

/// Walks a gumbo parse tree with an explicit stack (never recursion), sending the content's
/// text to a ``DocumentBuilder`` and remembering the `<title>`.
struct HTMLTreeWalker {
  /// The text of the first `<title>`, if any.
  private(set) var title: String?

  /// How many `<article>`, `<main>` or `<section>` elements enclose the current node.
  private var contentDepth = 0

  /// How many headings enclose the current node (more than one only in broken HTML).
  private var headingDepth = 0

  /// One step of the walk: visit a node, or leave an element whose children are done.
  private enum Step {
    case enter(UnsafeMutablePointer<GumboNode>)
    case exit(GumboTag)
  }

  /// Walks the tree under `root`.
  mutating func walk(_ root: UnsafeMutablePointer<GumboNode>, into builder: inout DocumentBuilder) {
    var stack: [Step] = [.enter(root)]
    while let step = stack.popLast() {
      if builder.isTruncated {
        return
      }
      switch step {
      case .exit(let tag):
        leave(tag, into: &builder)
      case .enter(let node):
        switch node.pointee.type {
        case GUMBO_NODE_TEXT, GUMBO_NODE_CDATA:
          if let text = node.pointee.v.text.text {
            builder.append(cString: text)
          }
        case GUMBO_NODE_WHITESPACE:
          builder.append(" ")
        case GUMBO_NODE_DOCUMENT:
          Self.pushChildren(node.pointee.v.document.children, onto: &stack)
        case GUMBO_NODE_ELEMENT, GUMBO_NODE_TEMPLATE:
          if enter(node, into: &builder) {
            stack.append(.exit(node.pointee.v.element.tag))
            Self.pushChildren(node.pointee.v.element.children, onto: &stack)
          }
        default:
          break
        }
      }
    }
  }

  /// Starts an element; returns whether its children are to be visited.
  private mutating func enter(
    _ node: UnsafeMutablePointer<GumboNode>,
    into builder: inout DocumentBuilder
  ) -> Bool {
    let tag = node.pointee.v.element.tag
    if tag == GUMBO_TAG_TITLE {
      if title == nil {
        title = Self.textContent(of: node)
      }
      return false
    }
    if Self.droppedTags.contains(tag.rawValue) || isBoilerplate(node) {
      return false
    }

    if let level = Self.headingLevel(of: tag) {
      headingDepth += 1
      if headingDepth == 1 {
        builder.begin(.heading(level: level))
      }
    } else if Self.contentTags.contains(tag.rawValue) {
      contentDepth += 1
    }
    if Self.blockTags.contains(tag.rawValue) && headingDepth == 0 {
      builder.endBlock()
    } else if Self.separatorTags.contains(tag.rawValue) {
      builder.append(" ")
    }
    return true
  }

  /// Ends an element whose children have been visited.
  private mutating func leave(_ tag: GumboTag, into builder: inout DocumentBuilder) {
    if Self.headingLevel(of: tag) != nil {
      headingDepth -= 1
      if headingDepth == 0 {
        builder.endBlock()
      }
    } else if Self.contentTags.contains(tag.rawValue) {
      contentDepth -= 1
    }
    if Self.blockTags.contains(tag.rawValue) && headingDepth == 0 {
      builder.endBlock()
    } else if Self.separatorTags.contains(tag.rawValue) {
      builder.append(" ")
    }
  }

  /// Whether an element is navigation, decoration or hidden rather than content.
  private func isBoilerplate(_ node: UnsafeMutablePointer<GumboNode>) -> Bool {
    let element = node.pointee.v.element
    if (element.tag == GUMBO_TAG_HEADER || element.tag == GUMBO_TAG_FOOTER) && contentDepth == 0 {
      return true
    }
    var attributes = element.attributes
    if gumbo_get_attribute(&attributes, "hidden") != nil {
      return true
    }
    if let value = Self.attribute("aria-hidden", of: &attributes), value.lowercased() == "true" {
      return true
    }
    if let role = Self.attribute("role", of: &attributes),
      Self.boilerplateRoles.contains(role.lowercased())
    {
      return true
    }
    for name in ["class", "id"] {
      guard let value = Self.attribute(name, of: &attributes) else {
        continue
      }
      let tokens = value.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" })
      if tokens.contains(where: { Self.boilerplateNames.contains(String($0)) }) {
        return true
      }
    }
    return false
  }

  /// The text of every text node under an element, collapsed onto one line.
  private static func textContent(of node: UnsafeMutablePointer<GumboNode>) -> String {
    var text = ""
    var stack = [node]
    while let current = stack.popLast() {
      switch current.pointee.type {
      case GUMBO_NODE_TEXT, GUMBO_NODE_CDATA, GUMBO_NODE_WHITESPACE:
        text += Self.text(of: current)
      case GUMBO_NODE_ELEMENT, GUMBO_NODE_TEMPLATE:
        let children = current.pointee.v.element.children
        for index in (0..<Int(children.length)).reversed() {
          if let child = children.data[index] {
            stack.append(child.assumingMemoryBound(to: GumboNode.self))
          }
        }
      default:
        break
      }
      if text.utf8.count > 4 * DocumentBuilder.maximumTitleCharacters {
        break
      }
    }
    return DocumentBuilder.collapse(text, limit: DocumentBuilder.maximumTitleCharacters)
  }

  private static func pushChildren(_ children: GumboVector, onto stack: inout [Step]) {
    for index in (0..<Int(children.length)).reversed() {
      if let child = children.data[index] {
        stack.append(.enter(child.assumingMemoryBound(to: GumboNode.self)))
      }
    }
  }

  private static func text(of node: UnsafeMutablePointer<GumboNode>) -> String {
    guard let text = node.pointee.v.text.text else {
      return ""
    }
    return String(cString: text)
  }

  private static func attribute(_ name: String, of attributes: inout GumboVector) -> String? {
    guard let attribute = gumbo_get_attribute(&attributes, name),
      let value = attribute.pointee.value
    else {
      return nil
    }
    return String(cString: value)
  }

  private static func headingLevel(of tag: GumboTag) -> Int? {
    switch tag {
    case GUMBO_TAG_H1: 1
    case GUMBO_TAG_H2: 2
    case GUMBO_TAG_H3: 3
    case GUMBO_TAG_H4: 4
    case GUMBO_TAG_H5: 5
    case GUMBO_TAG_H6: 6
    default: nil
    }
  }

  /// Elements whose content is never page text.
  private static let droppedTags: Set<UInt32> = Set(
    [
      GUMBO_TAG_SCRIPT, GUMBO_TAG_STYLE, GUMBO_TAG_NOSCRIPT, GUMBO_TAG_TEMPLATE,
      GUMBO_TAG_IFRAME, GUMBO_TAG_OBJECT, GUMBO_TAG_EMBED, GUMBO_TAG_APPLET, GUMBO_TAG_CANVAS,
      GUMBO_TAG_SVG, GUMBO_TAG_MATH, GUMBO_TAG_NAV, GUMBO_TAG_ASIDE, GUMBO_TAG_MENU,
      GUMBO_TAG_BUTTON, GUMBO_TAG_SELECT, GUMBO_TAG_TEXTAREA, GUMBO_TAG_DATALIST,
      GUMBO_TAG_NOFRAMES, GUMBO_TAG_NOEMBED,
    ].map(\.rawValue))

  /// Elements inside which `<header>` and `<footer>` belong to the content.
  private static let contentTags: Set<UInt32> = Set(
    [GUMBO_TAG_ARTICLE, GUMBO_TAG_MAIN, GUMBO_TAG_SECTION].map(\.rawValue))

  /// Elements that start and end a paragraph.
  private static let blockTags: Set<UInt32> = Set(
    [
      GUMBO_TAG_ADDRESS, GUMBO_TAG_ARTICLE, GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_BODY,
      GUMBO_TAG_CAPTION, GUMBO_TAG_CENTER, GUMBO_TAG_DD, GUMBO_TAG_DETAILS, GUMBO_TAG_DIR,
      GUMBO_TAG_DIV, GUMBO_TAG_DL, GUMBO_TAG_DT, GUMBO_TAG_FIELDSET, GUMBO_TAG_FIGCAPTION,
      GUMBO_TAG_FIGURE, GUMBO_TAG_FOOTER, GUMBO_TAG_FORM, GUMBO_TAG_HEADER, GUMBO_TAG_HGROUP,
      GUMBO_TAG_HR, GUMBO_TAG_LEGEND, GUMBO_TAG_LI, GUMBO_TAG_LISTING, GUMBO_TAG_MAIN,
      GUMBO_TAG_OL, GUMBO_TAG_P, GUMBO_TAG_PRE, GUMBO_TAG_SECTION, GUMBO_TAG_SUMMARY,
      GUMBO_TAG_TABLE, GUMBO_TAG_TBODY, GUMBO_TAG_TFOOT, GUMBO_TAG_THEAD, GUMBO_TAG_TR,
      GUMBO_TAG_UL,
    ].map(\.rawValue))

  /// Elements that separate words without ending a paragraph.
  private static let separatorTags: Set<UInt32> = Set(
    [GUMBO_TAG_BR, GUMBO_TAG_TD, GUMBO_TAG_TH, GUMBO_TAG_IMG, GUMBO_TAG_INPUT].map(\.rawValue))

  /// ARIA roles of navigation and page furniture.
  private static let boilerplateRoles: Set<String> = [
    "navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar",
    "toolbar", "dialog", "alertdialog",
  ]

  /// Class names and ids that mark navigation and page furniture.
  private static let boilerplateNames: Set<String> = [
    "nav", "navbar", "navheader", "navfooter", "navigation", "menu", "breadcrumb",
    "breadcrumbs", "sidebar", "skip-link", "skiplink", "cookie-banner", "cookie-consent",
  ]
}
