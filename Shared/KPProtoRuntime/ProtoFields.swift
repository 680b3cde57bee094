/// The fields of one message as a dynamic tree, indexed like the message's protobuf-c
/// descriptor: index `i` is the field with the `i`-th smallest field number.
///
/// An absent field is `nil`. Generated code reads and writes this tree with the typed
/// accessors below; ``ProtoSchema`` converts it to and from protobuf-c's C structs.
public struct ProtoFields: @unchecked Sendable, Equatable {
  /// The slots, one per field, in storage of a class of their own rather than an array: every
  /// message encoded or decoded makes one tree, and the standard library allocates an
  /// `[ProtoValue?]` through its unspecialised code, which looks the storage's generic type up
  /// in the runtime's metadata cache each time.
  @usableFromInline var storage: ProtoFieldStorage

  /// Creates a tree with every field absent.
  ///
  /// - Parameter count: The number of fields the message declares.
  @inlinable
  public init(count: Int) {
    storage = ProtoFieldStorage.make(count: count)
  }

  /// Creates a tree from its slots.
  public init(values: [ProtoValue?]) {
    storage = ProtoFieldStorage.make(count: values.count)
    for (index, value) in values.enumerated() { storage[index] = value }
  }

  /// One slot per field of the message.
  public var values: [ProtoValue?] {
    (0..<count).map { storage[$0] }
  }

  /// The number of slots: the number of fields the message declares.
  @inlinable
  public var count: Int { storage.count }

  /// The value of the field at an index, or `nil` when it is absent.
  @inlinable
  public subscript(index: Int) -> ProtoValue? {
    get { index < storage.count ? storage[index] : nil }
    set {
      precondition(index >= 0 && index < storage.count, "field index out of range")
      if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
      storage[index] = newValue
    }
  }

  public static func == (lhs: ProtoFields, rhs: ProtoFields) -> Bool {
    guard lhs.count == rhs.count else { return false }
    if lhs.storage === rhs.storage { return true }
    for index in 0..<lhs.count where lhs.storage[index] != rhs.storage[index] { return false }
    return true
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
      self[index] = value.protoValue
    }
  }

  /// Sets a field that is present even at its default: a oneof member or a message.
  @inlinable
  public mutating func setPresent<T: ProtoFieldValue>(_ value: T, at index: Int) {
    self[index] = value.protoValue
  }

  /// Sets a field with explicit presence; `nil` leaves it absent.
  @inlinable
  public mutating func setOptional<T: ProtoFieldValue>(_ value: T?, at index: Int) {
    if let value {
      self[index] = value.protoValue
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
    self[index] = .list(items)
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
    self[index] = .list(items)
  }
}

/// The slots of a ``ProtoFields`` tree, allocated with the object in one block.
///
/// Not generic, so its type needs no lookup when one is made. Shared between copies of a tree
/// until one of them changes a slot, and changed only when not shared: which is what makes
/// ``ProtoFields`` safe to send between tasks.
public final class ProtoFieldStorage: ManagedBuffer<Int, ProtoValue?> {
  /// A storage of `count` absent slots.
  @inlinable
  static func make(count: Int) -> ProtoFieldStorage {
    let buffer = create(minimumCapacity: count) { _ in count }
    buffer.withUnsafeMutablePointerToElements { $0.initialize(repeating: nil, count: count) }
    return unsafeDowncast(buffer, to: ProtoFieldStorage.self)
  }

  deinit {
    _ = withUnsafeMutablePointers { count, slots in slots.deinitialize(count: count.pointee) }
  }

  /// The number of slots.
  @inlinable
  var count: Int { header }

  @inlinable
  subscript(index: Int) -> ProtoValue? {
    get { withUnsafeMutablePointerToElements { $0[index] } }
    set { withUnsafeMutablePointerToElements { $0[index] = newValue } }
  }

  /// An unshared copy, for a tree about to change a slot.
  @usableFromInline
  func copy() -> ProtoFieldStorage {
    let count = header
    let copy = ProtoFieldStorage.make(count: count)
    withUnsafeMutablePointerToElements { source in
      copy.withUnsafeMutablePointerToElements { target in
        target.update(from: source, count: count)
      }
    }
    return copy
  }
}
