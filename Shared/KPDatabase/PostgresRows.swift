/// The rows a statement returned, with their column names, as text.
///
/// Values arrive in PostgreSQL's text format; SQL `NULL` is `nil`.
public struct PostgresRows: Sendable, RandomAccessCollection {
  /// The result's column names, in order.
  public let columns: [String]

  /// The rows, in the order the server sent them.
  public let rows: [PostgresRow]

  /// How many rows an `INSERT`, `UPDATE`, `DELETE`, `MERGE`, `SELECT`, `MOVE`, `FETCH` or `COPY`
  /// affected, or `nil` for other commands.
  public let affectedRowCount: Int?

  /// Creates a result.
  ///
  /// - Parameters:
  ///   - columns: The column names.
  ///   - rows: The rows.
  ///   - affectedRowCount: The count the server reported, if any.
  public init(columns: [String], rows: [PostgresRow], affectedRowCount: Int?) {
    self.columns = columns
    self.rows = rows
    self.affectedRowCount = affectedRowCount
  }

  /// The position of the first row.
  public var startIndex: Int { rows.startIndex }

  /// The position after the last row.
  public var endIndex: Int { rows.endIndex }

  /// The row at a position.
  public subscript(position: Int) -> PostgresRow { rows[position] }
}

/// One row of a ``PostgresRows`` result.
public struct PostgresRow: Sendable, Equatable {
  /// The result's column names, shared by every row.
  public let columns: [String]

  /// The row's values in column order; SQL `NULL` is `nil`.
  public let values: [String?]

  /// Creates a row.
  ///
  /// - Parameters:
  ///   - columns: The column names.
  ///   - values: The values, one per column.
  public init(columns: [String], values: [String?]) {
    self.columns = columns
    self.values = values
  }

  /// The value in a column by position; `nil` for SQL `NULL`.
  public subscript(index: Int) -> String? { values[index] }

  /// The value in the first column with this name; `nil` for SQL `NULL` or an unknown column.
  public subscript(column: String) -> String? {
    guard let index = columns.firstIndex(of: column) else { return nil }
    return values[index]
  }
}
