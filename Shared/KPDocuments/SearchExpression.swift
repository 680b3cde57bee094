/// The syntax tree of a search query.
///
/// A parsed query is an ``and(_:)`` of positive parts (terms, phrases, or ``or(_:)`` groups of
/// them) followed by ``not(_:)`` exclusions; a query with a single positive part and no
/// exclusions is that part alone.
public indirect enum SearchExpression: Sendable, Hashable, CustomStringConvertible {
  /// One word as the user typed it, such as `postgres` or `c++`.
  case term(String)
  /// Words that must appear next to each other in this order (a quoted phrase).
  case phrase([String])
  /// Every part must match.
  case and([SearchExpression])
  /// At least one part must match.
  case or([SearchExpression])
  /// The part must not match.
  case not(SearchExpression)

  /// The expression in the query syntax, fully parenthesised: `(foo OR bar) "a b" -baz`.
  public var description: String {
    switch self {
    case .term(let word):
      word
    case .phrase(let words):
      "\"" + words.joined(separator: " ") + "\""
    case .and(let parts):
      parts.map(\.description).joined(separator: " ")
    case .or(let parts):
      "(" + parts.map(\.description).joined(separator: " OR ") + ")"
    case .not(let part):
      "-" + part.description
    }
  }
}
