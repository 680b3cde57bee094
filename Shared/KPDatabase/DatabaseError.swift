/// A failure talking to PostgreSQL: the connection could not be made or was lost, or the server
/// refused a statement.
///
/// Errors compare equal when their codes are equal. For a server error, ``sqlState`` holds the
/// five-character SQLSTATE (for example `42P01` for a missing table, `23505` for a unique
/// violation) and ``message``, ``detail`` and ``hint`` hold what the server said.
public struct DatabaseError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What kind of failure this is. New codes may be added; match with `==`, not exhaustively.
  public struct Code: Sendable, Hashable, CustomStringConvertible {
    private let name: String

    private init(_ name: String) {
      self.name = name
    }

    /// The connection could not be established (unreachable server, refused login, timeout).
    public static let connectionFailed = Code("connectionFailed")
    /// The connection was closed by ``PostgresConnection/close()`` or broke while in use.
    public static let connectionClosed = Code("connectionClosed")
    /// The server refused the statement; ``DatabaseError/sqlState`` says why.
    public static let serverError = Code("serverError")
    /// A value cannot be sent, such as text containing a NUL character.
    public static let invalidParameter = Code("invalidParameter")
    /// The statement produced a result this wrapper does not handle, such as `COPY`.
    public static let unsupportedResult = Code("unsupportedResult")
    /// No pooled connection became free within the pool's acquire timeout.
    public static let poolTimeout = Code("poolTimeout")
    /// The pool was closed; it lends no more connections.
    public static let poolClosed = Code("poolClosed")
    /// A name that reaches SQL as an identifier is not of the accepted form.
    public static let invalidIdentifier = Code("invalidIdentifier")
    /// A database setting, such as the list of clusters, cannot be used.
    public static let invalidConfiguration = Code("invalidConfiguration")
    /// No database cluster of that name is configured.
    public static let unknownCluster = Code("unknownCluster")
    /// The tenant is not in the registry, or has been deleted.
    public static let tenantNotFound = Code("tenantNotFound")
    /// A tenant's schema migration failed; the message names the tenant and the version.
    public static let migrationFailed = Code("migrationFailed")

    /// The code's name, such as `serverError`.
    public var description: String { name }
  }

  /// What kind of failure this is.
  public var code: Code

  /// A description a person can act on.
  public var message: String

  /// The SQLSTATE the server reported, when the server reported one.
  public var sqlState: String?

  /// The server's detail line, when it sent one.
  public var detail: String?

  /// The server's hint, when it sent one.
  public var hint: String?

  /// Creates an error.
  ///
  /// - Parameters:
  ///   - code: What kind of failure this is.
  ///   - message: A description a person can act on.
  ///   - sqlState: The server's SQLSTATE, if any.
  ///   - detail: The server's detail line, if any.
  ///   - hint: The server's hint, if any.
  public init(
    code: Code,
    message: String,
    sqlState: String? = nil,
    detail: String? = nil,
    hint: String? = nil
  ) {
    self.code = code
    self.message = message
    self.sqlState = sqlState
    self.detail = detail
    self.hint = hint
  }

  public static func == (lhs: DatabaseError, rhs: DatabaseError) -> Bool {
    lhs.code == rhs.code
  }

  /// The code, the SQLSTATE when there is one, the message, and the detail and hint.
  public var description: String {
    var text = "database error (\(code)"
    if let sqlState { text += ", SQLSTATE \(sqlState)" }
    text += "): \(message)"
    if let detail { text += " Detail: \(detail)" }
    if let hint { text += " Hint: \(hint)" }
    return text
  }
}
