import KPDocuments
import Testing

@Suite("Search query parser")
struct SearchQueryTests {
  @Test("a phrase, a term and an exclusion")
  func phraseTermExclusion() throws {
    let query = try SearchQuery(parsing: "\"exact phrase\" foo -bar")
    #expect(
      query.expression == .and([.phrase(["exact", "phrase"]), .term("foo"), .not(.term("bar"))]))
    #expect(query.tsquery == "'exact phrase' & 'foo' & !'bar'")
    #expect(query.expression.description == "\"exact phrase\" foo -bar")
  }

  @Test("OR binds tighter than the spaces between terms")
  func orGroups() throws {
    let query = try SearchQuery(parsing: "a OR b c")
    #expect(query.expression == .and([.or([.term("a"), .term("b")]), .term("c")]))
    #expect(query.tsquery == "( 'a' | 'b' ) & 'c'")
    #expect(query.expression.description == "(a OR b) c")

    let alone = try SearchQuery(parsing: "x OR \"y z\" OR w")
    #expect(alone.expression == .or([.term("x"), .phrase(["y", "z"]), .term("w")]))
    #expect(alone.tsquery == "'x' | 'y z' | 'w'")
  }

  @Test(
    "an OR without a positive term on one side is ignored; lower-case or is a word",
    arguments: [
      ("a OR", SearchExpression.term("a")),
      ("OR a", .term("a")),
      ("a OR OR b", .or([.term("a"), .term("b")])),
      ("a OR -b", .and([.term("a"), .not(.term("b"))])),
      ("a -b OR c", .and([.term("a"), .term("c"), .not(.term("b"))])),
      ("a or b", .and([.term("a"), .term("or"), .term("b")])),
      ("x -OR", .and([.term("x"), .not(.term("OR"))])),
    ])
  func danglingOr(text: String, expected: SearchExpression) throws {
    #expect(try SearchQuery(parsing: text).expression == expected)
  }

  @Test("an unbalanced quote runs to the end of the query")
  func unbalancedQuotes() throws {
    #expect(
      try SearchQuery(parsing: "\"unbalanced quote").expression == .phrase(["unbalanced", "quote"]))
    #expect(try SearchQuery(parsing: "\"unbalanced quote").tsquery == "'unbalanced quote'")
    #expect(
      try SearchQuery(parsing: "foo \"bar").expression == .and([.term("foo"), .term("bar")]))
    #expect(
      try SearchQuery(parsing: "a\"b c\"d").expression
        == .and([.term("a"), .phrase(["b", "c"]), .term("d")]))
    #expect(
      try SearchQuery(parsing: "x -\"not this\"").tsquery == "'x' & !'not this'")
  }

  @Test("a query of only exclusions needs a positive term")
  func onlyExclusions() throws {
    let error = try #require(throws: SearchQueryError.self) {
      try SearchQuery(parsing: "-foo -\"bar baz\"")
    }
    #expect(error.code == .noPositiveTerm)
    #expect(
      error.message
        == "the query only excludes words (-word); add at least one word to search for")
  }

  @Test(
    "an empty query is refused", arguments: ["", "   \t\n", "-", "\"\"", "&& :* () !|", "\" \""])
  func empty(text: String) {
    #expect(throws: SearchQueryError(code: .emptyQuery, message: "")) {
      try SearchQuery(parsing: text)
    }
  }

  @Test("a 1,000-character query is accepted; one character more is refused")
  func length() throws {
    let text = String(repeating: "word ", count: 200)
    #expect(text.count == 1_000)
    let query = try SearchQuery(parsing: text)
    #expect(query.expression == .and(Array(repeating: .term("word"), count: 200)))
    #expect(query.tsquery == Array(repeating: "'word'", count: 200).joined(separator: " & "))

    let error = try #require(throws: SearchQueryError.self) {
      try SearchQuery(parsing: text + "x")
    }
    #expect(error.code == .queryTooLong)
    #expect(error.message == "the query is 1001 characters long; shorten it to at most 1000")
  }

  @Test("too many terms are refused")
  func terms() throws {
    #expect(throws: SearchQueryError(code: .tooManyTerms, message: "")) {
      try SearchQuery(parsing: String(repeating: "a ", count: 257))
    }
    let limits = SearchQuery.Limits(maximumCharacters: 1_000, maximumTerms: 2)
    #expect(throws: SearchQueryError(code: .tooManyTerms, message: "")) {
      try SearchQuery(parsing: "\"one two three\"", limits: limits)
    }
  }

  @Test(
    "SQL and tsquery metacharacters stay inside quoted operands",
    arguments: [
      ("'; DROP TABLE documents; --", "'DROP' & 'TABLE' & 'documents;'"),
      ("it's", "'it''s'"),
      ("back\\slash", "'back\\\\slash'"),
      ("foo:*&bar|!baz()", "'foo:*&bar|!baz()'"),
      ("(a | b) & !c", "'(a' & 'b)' & '!c'"),
      ("x <-> y", "'x' & 'y'"),
      ("\"a' | 'b\" z", "'a'' ''b' & 'z'"),
      ("$1 ::regconfig", "'$1' & '::regconfig'"),
    ])
  func metacharacters(text: String, expected: String) throws {
    #expect(try SearchQuery(parsing: text).tsquery == expected)
  }

  @Test("a built expression renders with parentheses where needed")
  func builtExpression() {
    let query = SearchQuery(
      expression: .and([
        .or([.term("a"), .and([.term("b"), .term("c")])]), .not(.or([.term("d"), .term("e")])),
      ]))
    #expect(query.tsquery == "( 'a' | ( 'b' & 'c' ) ) & !( 'd' | 'e' )")
  }
}
