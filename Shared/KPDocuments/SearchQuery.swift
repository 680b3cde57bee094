/// A search query in web-search syntax, parsed.
///
/// The syntax:
///
/// - `word` — a term; terms separated by spaces must all match (AND).
/// - `"exact phrase"` — the words next to each other in this order. A quote left open runs to
///   the end of the query.
/// - `a OR b` — either term (or phrase). `OR` must be upper case; it binds tighter than the
///   spaces between terms, so `a OR b c` is `(a OR b) AND c`. An `OR` with no positive term on
///   one side is ignored.
/// - `-word`, `-"a phrase"` — results must not contain it.
///
/// Parentheses and other operators have no meaning: they are part of the words they touch,
/// and a word with no letter or digit (`&&`, `:*`, `()`) is ignored, since the text-search
/// parser would drop it anyway. A query needs at least one term to look for.
public struct SearchQuery: Sendable, Hashable {
  /// Limits on a query's size.
  public struct Limits: Sendable, Hashable {
    /// The longest query accepted, in characters.
    ///
    /// Default: 1,000. Environment: `KP_SEARCH_MAX_QUERY_CHARACTERS`.
    public var maximumCharacters: Int

    /// The most terms (phrase words count one each) accepted.
    ///
    /// Default: 256. Environment: `KP_SEARCH_MAX_QUERY_TERMS`.
    public var maximumTerms: Int

    /// Creates limits; every argument has the documented default.
    ///
    /// - Parameters:
    ///   - maximumCharacters: The longest query accepted, in characters.
    ///   - maximumTerms: The most terms accepted.
    public init(maximumCharacters: Int = 1_000, maximumTerms: Int = 256) {
      self.maximumCharacters = maximumCharacters
      self.maximumTerms = maximumTerms
    }
  }

  /// The query's syntax tree.
  public let expression: SearchExpression

  /// Parses a query.
  ///
  /// - Parameters:
  ///   - text: The query as the user typed it.
  ///   - limits: Limits on the query's size.
  /// - Throws: ``SearchQueryError``: ``SearchQueryError/Code/emptyQuery``,
  ///   ``SearchQueryError/Code/noPositiveTerm``, ``SearchQueryError/Code/queryTooLong`` or
  ///   ``SearchQueryError/Code/tooManyTerms``.
  public init(parsing text: String, limits: Limits = Limits()) throws(SearchQueryError) {
    var parser = SearchQueryParser(limits: limits)
    expression = try parser.parse(text)
  }

  /// Wraps an expression built by hand.
  ///
  /// - Parameter expression: The query's syntax tree.
  public init(expression: SearchExpression) {
    self.expression = expression
  }
}
