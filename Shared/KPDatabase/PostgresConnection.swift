import CLibPQ
import Foundation

/// One connection to PostgreSQL through libpq, with statements sent as bound parameters.
///
/// Calls block the calling thread until the server answers. One connection runs one statement
/// at a time: a lock serialises callers, which makes the type safe to share, but a connection is
/// meant to be owned by one task (or lent out by a pool) rather than used concurrently.
///
/// ```swift
/// let connection = try PostgresConnection.connect(url: "postgresql://postgres@127.0.0.1/db")
/// let rows = try connection.query("SELECT name FROM users WHERE id = $1", ["42"])
/// ```
public final class PostgresConnection: @unchecked Sendable {
  // Every access to `handle` happens with `lock` held: that is what makes the class Sendable.
  private let lock = NSLock()
  private var handle: OpaquePointer?

  private init(handle: OpaquePointer) {
    self.handle = handle
  }

  deinit {
    if let handle {
      PQfinish(handle)
    }
  }

  /// Connects to a server.
  ///
  /// - Parameters:
  ///   - url: A libpq connection URL (`postgresql://user@host:port/database?option=value`) or a
  ///     `key=value` connection string.
  ///   - timeout: How long to wait for the connection; libpq rounds it up to whole seconds, and
  ///     values below two seconds count as two. Default: 10 seconds.
  ///   - applicationName: Shown in `pg_stat_activity`. Default: `knowledgeplane`.
  /// - Returns: An open connection using UTF-8.
  /// - Throws: ``DatabaseError`` with code `connectionFailed` and libpq's reason.
  public static func connect(
    url: String,
    timeout: Duration = .seconds(10),
    applicationName: String = "knowledgeplane"
  ) throws(DatabaseError) -> PostgresConnection {
    let (whole, fraction) = timeout.components
    let seconds = max(1, Int(whole) + (fraction > 0 ? 1 : 0))
    let options: [(String, String)] = [
      ("dbname", url),
      ("connect_timeout", String(seconds)),
      ("client_encoding", "UTF8"),
      ("application_name", applicationName),
    ]
    let keywords = options.map { strdup($0.0) }
    let values = options.map { strdup($0.1) }
    defer {
      for pointer in keywords + values { free(pointer) }
    }
    let keywordPointers = keywords.map { UnsafePointer($0) } + [nil]
    let valuePointers = values.map { UnsafePointer($0) } + [nil]

    // expand_dbname = 1: the first `dbname` may be a URL or a connection string.
    guard let handle = PQconnectdbParams(keywordPointers, valuePointers, 1) else {
      throw DatabaseError(code: .connectionFailed, message: "libpq could not allocate a connection")
    }
    guard PQstatus(handle) == CONNECTION_OK else {
      let reason = Self.trimmed(PQerrorMessage(handle))
      PQfinish(handle)
      throw DatabaseError(
        code: .connectionFailed,
        message: "could not connect to PostgreSQL: \(reason)")
    }
    // Notices (such as "drop cascades to …") would go to standard error, around the service's
    // structured log; statements' outcomes reach callers as results and errors instead.
    PQsetNoticeProcessor(handle, { _, _ in }, nil)
    return PostgresConnection(handle: handle)
  }

  /// Whether the connection is open and healthy as far as libpq knows.
  public var isOpen: Bool {
    lock.withLock {
      guard let handle else { return false }
      return PQstatus(handle) == CONNECTION_OK
    }
  }

  /// Whether the connection is open and outside any transaction block, so that it can be lent
  /// to the next user as it is.
  public var isIdle: Bool {
    lock.withLock {
      guard let handle, PQstatus(handle) == CONNECTION_OK else { return false }
      return PQtransactionStatus(handle) == PQTRANS_IDLE
    }
  }

  /// The process id of the server backend serving this connection, or `nil` once closed.
  public var backendProcessID: Int32? {
    lock.withLock {
      guard let handle else { return nil }
      return PQbackendPID(handle)
    }
  }

  /// Closes the connection. Later calls throw `connectionClosed`; closing twice does nothing.
  public func close() {
    lock.withLock {
      if let handle {
        PQfinish(handle)
      }
      handle = nil
    }
  }

  /// Runs one statement with bound parameters and returns its rows.
  ///
  /// Parameters are sent separately from the SQL text, in text format, so no value is ever
  /// spliced into SQL. Refer to them as `$1`, `$2`, …; PostgreSQL infers their types from the
  /// statement (add a cast such as `$1::int` where it cannot).
  ///
  /// - Parameters:
  ///   - sql: One SQL statement.
  ///   - parameters: The values for `$1`, `$2`, …; `nil` is SQL `NULL`.
  /// - Returns: The rows, empty for statements that return none.
  /// - Throws: ``DatabaseError``: `serverError` with the SQLSTATE when the server refuses the
  ///   statement, `connectionClosed` when the connection is gone, `invalidParameter` when a
  ///   value contains a NUL character.
  @discardableResult
  public func query(
    _ sql: String,
    _ parameters: [String?] = []
  ) throws(DatabaseError) -> PostgresRows {
    for (index, parameter) in parameters.enumerated() where parameter?.utf8.contains(0) == true {
      throw DatabaseError(
        code: .invalidParameter,
        message: "parameter $\(index + 1) contains a NUL character, which PostgreSQL text "
          + "cannot hold")
    }
    if sql.utf8.contains(0) {
      throw DatabaseError(
        code: .invalidParameter, message: "the SQL text contains a NUL character")
    }

    lock.lock()
    defer { lock.unlock() }
    let handle = try openHandle()

    let copies = parameters.map { $0.map { strdup($0) } ?? nil }
    defer {
      for pointer in copies { free(pointer) }
    }
    let pointers = copies.map { $0.map { UnsafePointer($0) } }
    let result = PQexecParams(
      handle, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
    return try consume(result, handle: handle)
  }

  /// Runs SQL text that may hold several statements separated by semicolons, such as a migration,
  /// without parameters. Returns the last statement's rows.
  ///
  /// - Parameter sql: The statements.
  /// - Returns: The rows of the last statement.
  /// - Throws: ``DatabaseError`` as ``query(_:_:)`` does.
  @discardableResult
  public func execute(_ sql: String) throws(DatabaseError) -> PostgresRows {
    if sql.utf8.contains(0) {
      throw DatabaseError(
        code: .invalidParameter, message: "the SQL text contains a NUL character")
    }
    lock.lock()
    defer { lock.unlock() }
    let handle = try openHandle()
    return try consume(PQexec(handle, sql), handle: handle)
  }

  // MARK: - Internals (called with `lock` held)

  private func openHandle() throws(DatabaseError) -> OpaquePointer {
    guard let handle else {
      throw DatabaseError(code: .connectionClosed, message: "the connection has been closed")
    }
    return handle
  }

  /// Turns a libpq result into rows or an error, and frees it.
  private func consume(
    _ result: OpaquePointer?,
    handle: OpaquePointer
  ) throws(DatabaseError) -> PostgresRows {
    guard let result else {
      throw connectionError(handle: handle)
    }
    defer { PQclear(result) }

    switch PQresultStatus(result) {
    case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
      return rows(of: result)
    case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
      throw serverError(of: result, handle: handle)
    default:
      let status = String(cString: PQresStatus(PQresultStatus(result)))
      throw DatabaseError(
        code: .unsupportedResult,
        message: "the statement returned a \(status) result, which this connection does not "
          + "handle; COPY needs a dedicated API")
    }
  }

  private func rows(of result: OpaquePointer) -> PostgresRows {
    let columnCount = PQnfields(result)
    let rowCount = PQntuples(result)
    let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
    var rows: [PostgresRow] = []
    rows.reserveCapacity(Int(rowCount))
    for row in 0..<rowCount {
      let values = (0..<columnCount).map { column -> String? in
        if PQgetisnull(result, row, column) == 1 { return nil }
        return String(cString: PQgetvalue(result, row, column))
      }
      rows.append(PostgresRow(columns: columns, values: values))
    }
    let tuples = String(cString: PQcmdTuples(result))
    return PostgresRows(columns: columns, rows: rows, affectedRowCount: Int(tuples))
  }

  private func serverError(of result: OpaquePointer, handle: OpaquePointer) -> DatabaseError {
    func field(_ code: UInt8) -> String? {
      guard let value = PQresultErrorField(result, Int32(code)) else { return nil }
      return String(cString: value)
    }
    guard let sqlState = field(UInt8(ascii: "C")) else {
      // No SQLSTATE: libpq reports a broken connection this way.
      return connectionError(handle: handle)
    }
    let message = field(UInt8(ascii: "M")) ?? Self.trimmed(PQresultErrorMessage(result))
    return DatabaseError(
      code: .serverError,
      message: message,
      sqlState: sqlState,
      detail: field(UInt8(ascii: "D")),
      hint: field(UInt8(ascii: "H")))
  }

  private func connectionError(handle: OpaquePointer) -> DatabaseError {
    let reason = Self.trimmed(PQerrorMessage(handle))
    let closed = PQstatus(handle) != CONNECTION_OK
    return DatabaseError(
      code: closed ? .connectionClosed : .serverError,
      message: closed ? "the connection to PostgreSQL was lost: \(reason)" : reason)
  }

  private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
    guard let message else { return "unknown libpq error" }
    var text = String(cString: message)
    while text.last?.isWhitespace == true { text.removeLast() }
    return text.isEmpty ? "unknown libpq error" : text
  }
}
