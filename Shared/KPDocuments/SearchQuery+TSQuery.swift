extension SearchQuery {
  /// The query as PostgreSQL `tsquery` syntax, for `to_tsquery(config, $n)` with this string
  /// as a bound parameter: `"exact phrase" foo -bar` becomes
  /// `'exact phrase' & 'foo' & !'bar'`.
  ///
  /// Safe by construction: every term and phrase is one quoted `tsquery` operand, with `'` and
  /// `\` escaped, so no character a user types can add an operator (`&`, `|`, `!`, `<->`,
  /// `:*`, parentheses) or end the quote. The only operators in the string are the ones this
  /// function writes. `to_tsquery` then runs each operand through the tenant's text-search
  /// configuration, exactly as `plainto_tsquery` would: a quoted operand of several words
  /// becomes a phrase (`'exact' <-> 'phrase'`), words are stemmed, and stop words and
  /// punctuation are dropped. The string must still travel as a bound parameter, never be
  /// pasted into SQL.
  public var tsquery: String {
    Self.render(expression, nested: false)
  }

  private static func render(_ expression: SearchExpression, nested: Bool) -> String {
    switch expression {
    case .term(let word):
      return quoted(word)
    case .phrase(let words):
      return quoted(words.joined(separator: " "))
    case .and(let parts):
      let text = parts.map { render($0, nested: true) }.joined(separator: " & ")
      return nested && parts.count > 1 ? "( \(text) )" : text
    case .or(let parts):
      let text = parts.map { render($0, nested: true) }.joined(separator: " | ")
      return nested && parts.count > 1 ? "( \(text) )" : text
    case .not(let part):
      return "!" + render(part, nested: true)
    }
  }

  /// A `tsquery` quoted operand: `'it''s'`.
  private static func quoted(_ text: String) -> String {
    var result = "'"
    for character in text.unicodeScalars {
      switch character {
      case "'":
        result += "''"
      case "\\":
        result += "\\\\"
      default:
        result.unicodeScalars.append(character)
      }
    }
    return result + "'"
  }
}
