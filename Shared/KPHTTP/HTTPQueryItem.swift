/// One `name=value` pair from a request's query string, percent-decoded.
public struct HTTPQueryItem: Sendable, Hashable {
  /// The decoded name.
  public var name: String
  /// The decoded value; empty when the item had no `=`.
  public var value: String

  /// Makes an item.
  public init(name: String, value: String) {
    self.name = name
    self.value = value
  }
}
