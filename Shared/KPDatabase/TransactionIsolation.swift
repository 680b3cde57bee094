/// A transaction isolation level.
public struct TransactionIsolation: Sendable, Hashable {
  /// The level as SQL spells it, such as `READ COMMITTED`.
  public let sql: String

  private init(_ sql: String) {
    self.sql = sql
  }

  /// Each statement sees data committed before it began. PostgreSQL's default.
  public static let readCommitted = TransactionIsolation("READ COMMITTED")
  /// Every statement sees the snapshot taken at the transaction's first statement.
  public static let repeatableRead = TransactionIsolation("REPEATABLE READ")
  /// As if transactions ran one after another; conflicting ones fail with SQLSTATE 40001.
  public static let serializable = TransactionIsolation("SERIALIZABLE")
}
