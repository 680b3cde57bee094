/// An ordered list of header fields with case-insensitive names.
///
/// Order and repeated names are kept as received; lookups by name ignore ASCII case, so
/// `headers["content-type"]` finds `Content-Type`.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
  /// One header field.
  public struct Field: Sendable, Hashable {
    /// The name as received or set.
    public var name: String
    /// The value, without surrounding whitespace.
    public var value: String

    /// Makes a field.
    public init(name: String, value: String) {
      self.name = name
      self.value = value
    }
  }

  private var fields: [Field]

  /// No fields.
  public init() {
    fields = []
  }

  /// The given fields, in order.
  public init(_ fields: [(String, String)]) {
    self.fields = fields.map { Field(name: $0.0, value: $0.1) }
  }

  public init(dictionaryLiteral elements: (String, String)...) {
    self.init(elements)
  }

  /// The number of fields.
  public var count: Int { fields.count }

  /// Whether there are no fields.
  public var isEmpty: Bool { fields.isEmpty }

  /// The first value of the named field; setting replaces every field of that name (nil
  /// removes them).
  public subscript(name: String) -> String? {
    get { fields.first { Self.equal($0.name, name) }?.value }
    set {
      guard let newValue else {
        remove(name: name)
        return
      }
      if let index = fields.firstIndex(where: { Self.equal($0.name, name) }) {
        fields[index].value = newValue
        fields = fields.enumerated()
          .filter { $0.offset <= index || !Self.equal($0.element.name, name) }
          .map(\.element)
      } else {
        fields.append(Field(name: name, value: newValue))
      }
    }
  }

  /// Every value of the named field, in order.
  public func values(for name: String) -> [String] {
    fields.filter { Self.equal($0.name, name) }.map(\.value)
  }

  /// Whether a field of that name exists.
  public func contains(_ name: String) -> Bool {
    fields.contains { Self.equal($0.name, name) }
  }

  /// Appends a field, keeping any others of the same name.
  public mutating func add(name: String, value: String) {
    fields.append(Field(name: name, value: value))
  }

  /// Removes every field of that name.
  public mutating func remove(name: String) {
    fields.removeAll { Self.equal($0.name, name) }
  }

  public func makeIterator() -> IndexingIterator<[Field]> {
    fields.makeIterator()
  }

  /// Compares two names ignoring ASCII case, without allocating.
  static func equal(_ lhs: String, _ rhs: String) -> Bool {
    let left = lhs.utf8
    let right = rhs.utf8
    guard left.count == right.count else { return false }
    for (a, b) in zip(left, right) where lowercase(a) != lowercase(b) {
      return false
    }
    return true
  }

  private static func lowercase(_ byte: UInt8) -> UInt8 {
    (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
  }
}
