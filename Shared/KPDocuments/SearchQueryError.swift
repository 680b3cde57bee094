/// A search query that cannot be run: empty, without a term to look for, or too long.
///
/// The ``message`` says what to change in the query. Errors compare equal when their codes are
/// equal.
public struct SearchQueryError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What kind of problem this is. New codes may be added; match with `==`, not exhaustively.
  public struct Code: Sendable, Hashable, CustomStringConvertible {
    private let name: String

    private init(_ name: String) {
      self.name = name
    }

    /// The query has no terms at all (it is empty, blank or only punctuation).
    public static let emptyQuery = Code("emptyQuery")
    /// The query only excludes (`-word`); search needs something to look for.
    public static let noPositiveTerm = Code("noPositiveTerm")
    /// The query is longer than the configured number of characters.
    public static let queryTooLong = Code("queryTooLong")
    /// The query has more terms than configured.
    public static let tooManyTerms = Code("tooManyTerms")

    /// The code's name, such as `emptyQuery`.
    public var description: String { name }
  }

  /// What kind of problem this is.
  public var code: Code

  /// A description a person can act on.
  public var message: String

  /// Creates an error.
  ///
  /// - Parameters:
  ///   - code: What kind of problem this is.
  ///   - message: A description a person can act on.
  public init(code: Code, message: String) {
    self.code = code
    self.message = message
  }

  public static func == (lhs: SearchQueryError, rhs: SearchQueryError) -> Bool {
    lhs.code == rhs.code
  }

  /// The code and the message.
  public var description: String { "\(code): \(message)" }
}
