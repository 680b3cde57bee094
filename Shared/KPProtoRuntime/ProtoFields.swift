/// The fields of one message as a dynamic tree, indexed like the message's protobuf-c
/// descriptor: index `i` is the field with the `i`-th smallest field number.
///
/// An absent field is `nil`. Generated code reads and writes this tree with the typed
/// accessors below; ``ProtoSchema`` converts it to and from protobuf-c's C structs.
public struct ProtoFields: Sendable, Equatable {
  /// One slot per field of the message.
  public var values: [ProtoValue?]

  /// Creates a tree with every field absent.
  ///
  /// - Parameter count: The number of fields the message declares.
  @inlinable
  public init(count: Int) {
    values = Array(repeating: nil, count: count)
  }

  /// Creates a tree from its slots.
  @inlinable
  public init(values: [ProtoValue?]) {
    self.values = values
  }

  /// The value of the field at an index, or `nil` when it is absent.
  @inlinable
  public subscript(index: Int) -> ProtoValue? {
    get { index < values.count ? values[index] : nil }
    set { values[index] = newValue }
  }

  // MARK: Reading

  /// A field with implicit presence: its value, or the default when absent.
  @inlinable
  public func value<T: ProtoFieldValue>(at index: Int, as type: T.Type = T.self)
    throws(ProtoError) -> T
  {
    guard let value = self[index] else { return T.protoDefault }
    return try T(protoValue: value)
  }

  /// A field with explicit presence, such as a singular message: `nil` when absent.
  @inlinable
  public func optional<T: ProtoFieldValue>(at index: Int, as type: T.Type = T.self)
    throws(ProtoError) -> T?
  {
    guard let value = self[index] else { return nil }
    return try T(protoValue: value)
  }

  /// A repeated field's elements.
  @inlinable
  public func list<T: ProtoFieldValue>(at index: Int, of type: T.Type = T.self)
    throws(ProtoError) -> [T]
  {
    guard let value = self[index] else { return [] }
    guard case .list(let items) = value else {
      throw ProtoError.mismatch(expected: "list", found: value)
    }
    var result: [T] = []
    result.reserveCapacity(items.count)
    for item in items {
      result.append(try T(protoValue: item))
    }
    return result
  }

  /// A map field's entries. When an entry repeats a key, the last one wins.
  @inlinable
  public func map<K: ProtoMapKey, V: ProtoFieldValue>(
    at index: Int, key: K.Type = K.self, value: V.Type = V.self
  ) throws(ProtoError) -> [K: V] {
    guard let field = self[index] else { return [:] }
    guard case .list(let entries) = field else {
      throw ProtoError.mismatch(expected: "map", found: field)
    }
    var result: [K: V] = [:]
    result.reserveCapacity(entries.count)
    for entry in entries {
      guard case .message(let pair) = entry else {
        throw ProtoError.mismatch(expected: "map entry", found: entry)
      }
      let key: K = try pair.value(at: 0)
      result[key] = try pair.value(at: 1)
    }
    return result
  }

  // MARK: Writing

  /// Sets a field with implicit presence; a default value leaves the field absent.
  @inlinable
  public mutating func set<T: ProtoFieldValue>(_ value: T, at index: Int) {
    if value != T.protoDefault {
      values[index] = value.protoValue
    }
  }

  /// Sets a field that is present even at its default: a oneof member or a message.
  @inlinable
  public mutating func setPresent<T: ProtoFieldValue>(_ value: T, at index: Int) {
    values[index] = value.protoValue
  }

  /// Sets a field with explicit presence; `nil` leaves it absent.
  @inlinable
  public mutating func setOptional<T: ProtoFieldValue>(_ value: T?, at index: Int) {
    if let value {
      values[index] = value.protoValue
    }
  }

  /// Sets a repeated field; an empty list leaves the field absent.
  @inlinable
  public mutating func setList<T: ProtoFieldValue>(_ list: [T], at index: Int) {
    guard !list.isEmpty else { return }
    var items: [ProtoValue] = []
    items.reserveCapacity(list.count)
    for element in list {
      items.append(element.protoValue)
    }
    values[index] = .list(items)
  }

  /// Sets a map field, with entries ordered by key so the encoding is deterministic.
  @inlinable
  public mutating func setMap<K: ProtoMapKey, V: ProtoFieldValue>(_ map: [K: V], at index: Int) {
    guard !map.isEmpty else { return }
    var items: [ProtoValue] = []
    items.reserveCapacity(map.count)
    for key in map.keys.sorted(by: K.protoKeyPrecedes) {
      items.append(.message(ProtoFields(values: [key.protoValue, map[key]!.protoValue])))
    }
    values[index] = .list(items)
  }
}
