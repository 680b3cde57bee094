import KPProtocol

/// A call's metadata: string keys with text or binary values, in the order they were added.
///
/// Keys are compared case-insensitively and stored lowercased.
public struct Metadata: Sendable, Equatable {
  /// One metadata value.
  public enum Value: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
  }

  /// The entries, in order.
  public private(set) var entries: [(key: String, value: Value)] = []

  /// Makes empty metadata.
  public init() {}

  /// Makes metadata from text entries, in order.
  public init(_ pairs: [(String, String)]) {
    for (key, value) in pairs { add(key, value) }
  }

  /// Adds a text value.
  public mutating func add(_ key: String, _ value: String) {
    entries.append((Self.normalized(key), .text(value)))
  }

  /// Adds a binary value.
  public mutating func add(_ key: String, binary value: [UInt8]) {
    entries.append((Self.normalized(key), .binary(value)))
  }

  /// Replaces every value of a key with one text value.
  public mutating func set(_ key: String, _ value: String) {
    remove(key)
    add(key, value)
  }

  /// Removes every value of a key.
  public mutating func remove(_ key: String) {
    let key = Self.normalized(key)
    entries.removeAll { $0.key == key }
  }

  /// The first text value of a key.
  public subscript(key: String) -> String? {
    let key = Self.normalized(key)
    for entry in entries where entry.key == key {
      if case .text(let text) = entry.value { return text }
    }
    return nil
  }

  /// The first binary value of a key.
  public func binary(_ key: String) -> [UInt8]? {
    let key = Self.normalized(key)
    for entry in entries where entry.key == key {
      if case .binary(let bytes) = entry.value { return bytes }
    }
    return nil
  }

  /// A key as stored: lowercased. Keys are almost always lowercase ASCII already, and then
  /// the key itself is returned without building a new string.
  static func normalized(_ key: String) -> String {
    let alreadyLowercase =
      key.utf8.withContiguousStorageIfAvailable { bytes in
        bytes.allSatisfy { $0 < 0x80 && ($0 < UInt8(ascii: "A") || $0 > UInt8(ascii: "Z")) }
      } ?? false
    return alreadyLowercase ? key : key.lowercased()
  }

  public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
    lhs.entries.count == rhs.entries.count
      && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
  }

  var wireEntries: [Kp_Wire_V1_MetadataEntry] {
    entries.map { entry in
      var wire = Kp_Wire_V1_MetadataEntry()
      wire.key = entry.key
      switch entry.value {
      case .text(let text): wire.value = .text(text)
      case .binary(let bytes): wire.value = .binary(bytes)
      }
      return wire
    }
  }

  init(wire: [Kp_Wire_V1_MetadataEntry]) {
    entries.reserveCapacity(wire.count)
    for entry in wire {
      switch entry.value {
      case .text(let text): add(entry.key, text)
      case .binary(let bytes): add(entry.key, binary: bytes)
      case nil: add(entry.key, "")
      }
    }
  }
}

/// Well-known metadata keys.
public enum MetadataKey {
  /// The trace id that follows a request through every service.
  public static let traceID = "kp-trace-id"
  /// The tenant a call acts for, set by the gateway from a verified token.
  public static let tenant = "kp-tenant"
  /// The verified end user a call acts for.
  public static let user = "kp-user"
  /// A bearer credential, on the gateway's external port only.
  public static let authorization = "authorization"
  /// In a failed call's trailers: whole seconds after which trying again may succeed.
  public static let retryAfterSeconds = "retry-after-seconds"
}
