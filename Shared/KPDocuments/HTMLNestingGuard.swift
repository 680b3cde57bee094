/// Rewrites HTML before the HTML parser sees it, so that a hostile document cannot make parsing
/// quadratic, the parse tree too deep to free, or the tree far larger than the input.
///
/// The HTML parser (gumbo) has no depth limit: each start tag scans the stack of open elements,
/// so 100,000 nested `<div>`s take minutes, and freeing the tree recurses once per level.
/// Formatting elements (`<b>`, `<a>`, `<font>` and the like) left open are cloned into every
/// later block, which turns a few kilobytes into millions of nodes. This guard makes one linear
/// pass over the bytes with a light tokenizer and
///
/// - drops every formatting element's tags (they carry no text of their own, so the text is
///   unchanged);
/// - drops the tags of elements nested deeper than the limit, leaving a space so that words
///   stay apart, and keeps their text;
/// - drops comments; and copies everything else unchanged, including the content of `<script>`,
///   `<style>`, `<title>` and the other raw-text elements.
///
/// Elements whose end tag is optional (`<p>`, `<li>`, `<td>` and so on) and void elements do not
/// count towards the depth: the parser closes them itself.
struct HTMLNestingGuard {
  /// The deepest nesting of counted elements kept.
  var maximumDepth: Int

  /// The rewritten HTML.
  func rewrite(_ html: [UInt8]) -> [UInt8] {
    html.withUnsafeBufferPointer { input in
      var pass = Pass(input: input, maximumDepth: maximumDepth)
      pass.run()
      return pass.output
    }
  }

  /// Tags whose elements take part in the adoption agency algorithm.
  static let formattingElements: Set<String> = [
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt",
    "u",
  ]

  /// Elements that never have content or an end tag.
  static let voidElements: Set<String> = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta",
    "param", "source", "track", "wbr", "basefont", "bgsound", "frame", "image", "menuitem",
  ]

  /// Elements whose end tag is optional, and the document's skeleton.
  static let selfClosingByParser: Set<String> = [
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot",
    "rb", "rt", "rtc", "rp", "colgroup", "caption", "html", "head", "body",
  ]

  /// Elements whose content is text up to their own end tag, never markup.
  static let rawTextElements: Set<String> = [
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
  ]
}

extension HTMLNestingGuard {
  /// One pass over one document.
  private struct Pass {
    let input: UnsafeBufferPointer<UInt8>
    let maximumDepth: Int
    var output: [UInt8] = []
    var position = 0
    var open: [String] = []
    var dropped: [String: Int] = [:]

    init(input: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
      self.input = input
      self.maximumDepth = maximumDepth
      output.reserveCapacity(input.count)
    }

    mutating func run() {
      while position < input.count {
        guard let tagStart = find(UInt8(ascii: "<"), from: position) else {
          copy(upTo: input.count)
          return
        }
        copy(upTo: tagStart)
        position = tagStart
        readMarkup()
      }
    }

    /// Handles the markup at `position`, which is a `<`.
    private mutating func readMarkup() {
      let next = position + 1 < input.count ? input[position + 1] : 0
      if next == UInt8(ascii: "!") && matches("<!--", at: position) {
        skipComment()
      } else if next == UInt8(ascii: "!") || next == UInt8(ascii: "?") {
        copyDeclaration()
      } else if next == UInt8(ascii: "/") && isLetter(at: position + 2) {
        readEndTag()
      } else if isLetter(at: position + 1) {
        readStartTag()
      } else {
        copy(upTo: position + 1)
      }
    }

    private mutating func skipComment() {
      // `<!-->` and `<!--->` are complete (empty) comments too.
      var end = position + 4
      if matches(">", at: end) {
        position = end + 1
        return
      }
      if matches("->", at: end) {
        position = end + 2
        return
      }
      while let dash = find(UInt8(ascii: "-"), from: end) {
        if matches("-->", at: dash) {
          position = dash + 3
          return
        }
        end = dash + 1
      }
      position = input.count
    }

    private mutating func copyDeclaration() {
      let end = find(UInt8(ascii: ">"), from: position).map { $0 + 1 } ?? input.count
      copy(upTo: end)
    }

    private mutating func readStartTag() {
      let (name, nameEnd) = tagName(from: position + 1)
      guard let close = endOfTag(from: nameEnd) else {
        // A tag cut off by the end of input: the parser drops it, so may we.
        position = input.count
        return
      }
      let selfClosing = input[close - 1] == UInt8(ascii: "/")
      let end = close + 1

      if HTMLNestingGuard.formattingElements.contains(name) {
        position = end
      } else if HTMLNestingGuard.rawTextElements.contains(name) {
        copy(upTo: end)
        copyRawText(of: name)
      } else if name == "plaintext" {
        copy(upTo: input.count)
      } else if selfClosing || HTMLNestingGuard.voidElements.contains(name)
        || HTMLNestingGuard.selfClosingByParser.contains(name)
      {
        copy(upTo: end)
      } else if open.count < maximumDepth {
        open.append(name)
        copy(upTo: end)
      } else {
        dropped[name, default: 0] += 1
        output.append(UInt8(ascii: " "))
        position = end
      }
    }

    private mutating func readEndTag() {
      let (name, nameEnd) = tagName(from: position + 2)
      let end = find(UInt8(ascii: ">"), from: nameEnd).map { $0 + 1 } ?? input.count

      if HTMLNestingGuard.formattingElements.contains(name) {
        position = end
      } else if let count = dropped[name], count > 0 {
        dropped[name] = count == 1 ? nil : count - 1
        output.append(UInt8(ascii: " "))
        position = end
      } else {
        if let index = open.lastIndex(of: name) {
          open.removeSubrange(index...)
        }
        copy(upTo: end)
      }
    }

    /// Copies a raw-text element's content up to (not including) its end tag.
    private mutating func copyRawText(of name: String) {
      var search = position
      while let lessThan = find(UInt8(ascii: "<"), from: search) {
        if matches("</", at: lessThan) {
          let (candidate, nameEnd) = tagName(from: lessThan + 2)
          let after = nameEnd < input.count ? input[nameEnd] : UInt8(ascii: ">")
          if candidate == name && isTagNameTerminator(after) {
            copy(upTo: lessThan)
            return
          }
        }
        search = lessThan + 1
      }
      copy(upTo: input.count)
    }

    /// The lowercased tag name starting at `start`, and where it ends.
    private func tagName(from start: Int) -> (String, Int) {
      var end = start
      while end < input.count && !isTagNameTerminator(input[end]) {
        end += 1
      }
      let bytes = UnsafeBufferPointer(rebasing: input[start..<end])
      let lowered = bytes.prefix(32).map(folded)
      return (String(decoding: lowered, as: UTF8.self), end)
    }

    /// The `>` that closes a tag whose attributes start at `start`, skipping quoted values.
    private func endOfTag(from start: Int) -> Int? {
      var index = start
      var quote: UInt8 = 0
      while index < input.count {
        let byte = input[index]
        if quote != 0 {
          if byte == quote {
            quote = 0
          }
        } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
          // Only a quote that opens an attribute value (after `=`) starts a quoted run.
          if index > start && isAfterEquals(index) {
            quote = byte
          }
        } else if byte == UInt8(ascii: ">") {
          return index
        }
        index += 1
      }
      return nil
    }

    /// Whether the byte at `index` follows an `=`, with optional whitespace between.
    private func isAfterEquals(_ index: Int) -> Bool {
      var back = index - 1
      while back >= 0 && isWhitespace(input[back]) {
        back -= 1
      }
      return back >= 0 && input[back] == UInt8(ascii: "=")
    }

    private func isTagNameTerminator(_ byte: UInt8) -> Bool {
      isWhitespace(byte) || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ">")
    }

    private func isWhitespace(_ byte: UInt8) -> Bool {
      byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D
    }

    private func isLetter(at index: Int) -> Bool {
      guard index < input.count else {
        return false
      }
      let lowered = input[index] | 0x20
      return lowered >= UInt8(ascii: "a") && lowered <= UInt8(ascii: "z")
    }

    /// Whether the ASCII text occurs at `index`, ignoring case.
    private func matches(_ text: StaticString, at index: Int) -> Bool {
      let count = text.utf8CodeUnitCount
      guard index + count <= input.count else {
        return false
      }
      let pattern = UnsafeBufferPointer(start: text.utf8Start, count: count)
      for offset in 0..<count where folded(input[index + offset]) != folded(pattern[offset]) {
        return false
      }
      return true
    }

    /// An ASCII letter in lower case; any other byte unchanged.
    private func folded(_ byte: UInt8) -> UInt8 {
      byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    private func find(_ byte: UInt8, from start: Int) -> Int? {
      guard start < input.count else {
        return nil
      }
      return input[start...].firstIndex(of: byte)
    }

    private mutating func copy(upTo end: Int) {
      if end > position {
        output.append(contentsOf: UnsafeBufferPointer(rebasing: input[position..<end]))
      }
      position = end
    }
  }
}
