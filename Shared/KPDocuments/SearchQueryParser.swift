/// Reads web-search syntax into a ``SearchExpression``; see ``SearchQuery`` for the syntax.
struct SearchQueryParser {
  let limits: SearchQuery.Limits

  /// One positive or negative part, or an `OR`, as the query lists them.
  private enum Item {
    case positive(SearchExpression)
    case negative(SearchExpression)
    case or
  }

  private var scalars: [Unicode.Scalar] = []
  private var position = 0
  private var termCount = 0

  init(limits: SearchQuery.Limits) {
    self.limits = limits
  }

  mutating func parse(_ text: String) throws(SearchQueryError) -> SearchExpression {
    let length = text.unicodeScalars.count
    guard length <= limits.maximumCharacters else {
      throw SearchQueryError(
        code: .queryTooLong,
        message: "the query is \(length) characters long; shorten it to at most "
          + "\(limits.maximumCharacters)")
    }
    scalars = Array(text.unicodeScalars)
    position = 0
    termCount = 0

    var items: [Item] = []
    while let item = try nextItem() {
      items.append(item)
    }
    return try combine(items)
  }

  /// Groups positive parts joined by `OR`, then ANDs the groups and the exclusions.
  private func combine(_ items: [Item]) throws(SearchQueryError) -> SearchExpression {
    var groups: [[SearchExpression]] = []
    var exclusions: [SearchExpression] = []
    var joinNext = false
    var lastWasPositive = false
    for item in items {
      switch item {
      case .positive(let part):
        if joinNext && !groups.isEmpty {
          groups[groups.count - 1].append(part)
        } else {
          groups.append([part])
        }
        joinNext = false
        lastWasPositive = true
      case .negative(let part):
        exclusions.append(.not(part))
        joinNext = false
        lastWasPositive = false
      case .or:
        joinNext = joinNext || lastWasPositive
        lastWasPositive = false
      }
    }

    if groups.isEmpty && exclusions.isEmpty {
      throw SearchQueryError(
        code: .emptyQuery, message: "the query has no words to search for; type some")
    }
    if groups.isEmpty {
      throw SearchQueryError(
        code: .noPositiveTerm,
        message: "the query only excludes words (-word); add at least one word to search for")
    }
    let parts = groups.map { $0.count == 1 ? $0[0] : .or($0) } + exclusions
    return parts.count == 1 ? parts[0] : .and(parts)
  }

  /// The next item, or `nil` at the end of the query.
  private mutating func nextItem() throws(SearchQueryError) -> Item? {
    while true {
      skipSpaces()
      guard position < scalars.count else {
        return nil
      }
      var negated = false
      while position < scalars.count && scalars[position] == "-" {
        negated = true
        position += 1
      }
      guard position < scalars.count, !isSpace(scalars[position]) else {
        // A dash on its own negates nothing.
        continue
      }

      let part: SearchExpression?
      if scalars[position] == "\"" {
        part = try readPhrase()
      } else {
        let word = readWord()
        if word == "OR" && !negated {
          return .or
        }
        part = try term(word)
      }
      guard let part else {
        continue
      }
      return negated ? .negative(part) : .positive(part)
    }
  }

  /// A quoted phrase; the quote may be left open to the end.
  private mutating func readPhrase() throws(SearchQueryError) -> SearchExpression? {
    position += 1
    var words: [String] = []
    while position < scalars.count && scalars[position] != "\"" {
      skipSpaces()
      var word = ""
      while position < scalars.count && !isSpace(scalars[position]) && scalars[position] != "\"" {
        word.unicodeScalars.append(scalars[position])
        position += 1
      }
      if Self.isSearchable(word) {
        try count()
        words.append(word)
      }
    }
    position += 1
    switch words.count {
    case 0: return nil
    case 1: return .term(words[0])
    default: return .phrase(words)
    }
  }

  /// A word up to the next space or quote.
  private mutating func readWord() -> String {
    var word = ""
    while position < scalars.count && !isSpace(scalars[position]) && scalars[position] != "\"" {
      word.unicodeScalars.append(scalars[position])
      position += 1
    }
    return word
  }

  private mutating func term(_ word: String) throws(SearchQueryError) -> SearchExpression? {
    guard Self.isSearchable(word) else {
      return nil
    }
    try count()
    return .term(word)
  }

  private mutating func count() throws(SearchQueryError) {
    termCount += 1
    guard termCount <= limits.maximumTerms else {
      throw SearchQueryError(
        code: .tooManyTerms,
        message: "the query has more than \(limits.maximumTerms) words; remove some")
    }
  }

  private mutating func skipSpaces() {
    while position < scalars.count && isSpace(scalars[position]) {
      position += 1
    }
  }

  /// Whitespace and control characters separate words.
  private func isSpace(_ scalar: Unicode.Scalar) -> Bool {
    DocumentBuilder.isSeparator(scalar)
  }

  /// Whether a word has a letter or a digit, which is all the text-search parser keeps.
  private static func isSearchable(_ word: String) -> Bool {
    word.unicodeScalars.contains { $0.properties.isAlphabetic || $0.properties.numericType != nil }
  }
}
