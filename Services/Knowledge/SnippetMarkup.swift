/// How a search hit's snippet is marked up: HTML-escaped text in which each matched word is
/// wrapped in `<mark>` and `</mark>`, and nothing else is markup.
///
/// PostgreSQL's `ts_headline` marks matches with two control characters that no stored text
/// contains (the statement removes them from the text first); the document's own text, which
/// may hold anything a source sent, tags included, is then escaped, and only the two markers
/// become tags. A client may show the snippet as HTML without opening a door to script.
enum SnippetMarkup {
  /// What `ts_headline` puts before a match.
  static let startMarker: Character = "\u{2}"
  /// What `ts_headline` puts after a match.
  static let stopMarker: Character = "\u{3}"

  /// The `ts_headline` options: the markers and the fragment sizes.
  static let headlineOptionsSQL =
    "'StartSel=' || chr(2) || ', StopSel=' || chr(3) "
    + "|| ', MaxWords=35, MinWords=12, MaxFragments=2'"

  /// The snippet as escaped HTML with `<mark>` around matches.
  static func html(fromHeadline headline: String) -> String {
    var output = ""
    output.reserveCapacity(headline.utf8.count + 32)
    var open = false
    for character in headline {
      switch character {
      case startMarker where !open:
        output += "<mark>"
        open = true
      case stopMarker where open:
        output += "</mark>"
        open = false
      case startMarker, stopMarker: break
      case "&": output += "&amp;"
      case "<": output += "&lt;"
      case ">": output += "&gt;"
      case "\"": output += "&quot;"
      case "'": output += "&#39;"
      default: output.append(character)
      }
    }
    if open { output += "</mark>" }
    return output
  }
}
