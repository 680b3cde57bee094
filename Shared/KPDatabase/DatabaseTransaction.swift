/// The statements of one open transaction, lent to a closure by ``ConnectionPool``.
///
/// The pool begins the transaction before the closure runs and commits it when the closure
/// returns, or rolls it back when the closure throws. Statements take bound parameters
/// exactly as ``PostgresConnection/query(_:_:)`` does.
public struct DatabaseTransaction: Sendable {
  private let connection: PostgresConnection

  init(connection: PostgresConnection) {
    self.connection = connection
  }

  /// Runs one statement with bound parameters and returns its rows.
  ///
  /// - Parameters:
  ///   - sql: One SQL statement, with `$1`, `$2`, … for values.
  ///   - parameters: The values; `nil` is SQL `NULL`.
  /// - Returns: The rows.
  /// - Throws: ``DatabaseError``.
  @discardableResult
  public func query(
    _ sql: String, _ parameters: [String?] = []
  ) throws(DatabaseError) -> PostgresRows {
    try connection.query(sql, parameters)
  }

  /// Runs SQL text that may hold several statements, without parameters, such as a migration.
  ///
  /// - Parameter sql: The statements.
  /// - Returns: The last statement's rows.
  /// - Throws: ``DatabaseError``.
  @discardableResult
  public func execute(_ sql: String) throws(DatabaseError) -> PostgresRows {
    try connection.execute(sql)
  }

  /// Begins with `begin`, runs `body`, and commits, or rolls back when `body` throws.
  static func run<Result>(
    on connection: PostgresConnection,
    begin: String,
    _ body: (DatabaseTransaction) throws -> Result
  ) throws -> Result {
    do {
      try connection.execute(begin)
    } catch {
      _ = try? connection.execute("ROLLBACK")
      throw error
    }

    let result: Result
    do {
      result = try body(DatabaseTransaction(connection: connection))
    } catch {
      // A broken connection fails the rollback too; the pool then closes it.
      _ = try? connection.execute("ROLLBACK")
      throw error
    }

    try connection.execute("COMMIT")
    return result
  }
}
