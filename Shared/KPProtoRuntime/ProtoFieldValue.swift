/// A Swift type that a field of a generated message can hold.
public protocol ProtoFieldValue: Sendable, Equatable {
  /// The proto3 default: zero, false, empty, or the empty message.
  static var protoDefault: Self { get }

  /// Reads the value from a decoded tree value.
  init(protoValue: ProtoValue) throws(ProtoError)

  /// The value as a tree value.
  var protoValue: ProtoValue { get }
}

/// A type that can be the key of a protobuf map.
public protocol ProtoMapKey: ProtoFieldValue, Hashable {
  /// Orders keys so that maps serialize the same way every time.
  static func protoKeyPrecedes(_ lhs: Self, _ rhs: Self) -> Bool
}

extension ProtoMapKey where Self: Comparable {
  public static func protoKeyPrecedes(_ lhs: Self, _ rhs: Self) -> Bool { lhs < rhs }
}

/// An open protobuf enum: every `Int32` is a value, named or not.
public protocol ProtoEnum: RawRepresentable, ProtoFieldValue, Hashable where RawValue == Int32 {
  /// Creates the value with the given number, known to this version of the protocol or not.
  init(rawValue: Int32)
}

extension ProtoEnum {
  public static var protoDefault: Self { Self(rawValue: 0) }

  public init(protoValue: ProtoValue) throws(ProtoError) {
    guard case .int32(let value) = protoValue else {
      throw ProtoError.mismatch(expected: "enum", found: protoValue)
    }
    self.init(rawValue: value)
  }

  public var protoValue: ProtoValue { .int32(rawValue) }
}

extension Bool: ProtoMapKey {
  public static var protoDefault: Bool { false }

  public init(protoValue: ProtoValue) throws(ProtoError) {
    guard case .bool(let value) = protoValue else {
      throw ProtoError.mismatch(expected: "bool", found: protoValue)
    }
    self = value
  }

  public var protoValue: ProtoValue { .bool(self) }

  public static func protoKeyPrecedes(_ lhs: Bool, _ rhs: Bool) -> Bool { !lhs && rhs }
}

extension Int32: ProtoMapKey {
  public static var protoDefault: Int32 { 0 }

  public init(protoValue: ProtoValue) throws(ProtoError) {
    guard case .int32(let value) = protoValue else {
      throw ProtoError.mismatch(expected: "int32", found: protoValue)
    }
    self = value
  }

  public var protoValue: ProtoValue { .int32(self) }
}

extension Int64: ProtoMapKey {
  public static var protoDefault: Int64 { 0 }

  public init(protoValue: ProtoValue) throws(ProtoError) {
    guard case .int64(let value) = protoValue else {
      throw ProtoError.mismatch(expected: "int64", found: protoValue)
    }
    self = value
  }

  public var protoValue: ProtoValue { .int64(self) }
}

extension UInt32: ProtoMapKey {
  public static var protoDefault: UInt32 { 0 }

  public init(protoValue: ProtoValue) throws(ProtoError) {
    guard case .uint32(let value) = protoValue else {
      throw ProtoError.mismatch(expected: "uint32", found: protoValue)
    }
    self = value
  }

  public var protoValue: ProtoValue { .uint32(self) }
}

extension UInt64: ProtoMapKey {
  public static var protoDefault: UInt64 { 0 }

  public init(protoValue: ProtoValue) throws(ProtoError) {
    guard case .uint64(let value) = protoValue else {
      throw ProtoError.mismatch(expected: "uint64", found: protoValue)
    }
    self = value
  }

  public var protoValue: ProtoValue { .uint64(self) }
}

extension Float: ProtoFieldValue {
  public static var protoDefault: Float { 0 }

  public init(protoValue: ProtoValue) throws(ProtoError) {
    guard case .float(let value) = protoValue else {
      throw ProtoError.mismatch(expected: "float", found: protoValue)
    }
    self = value
  }

  public var protoValue: ProtoValue { .float(self) }
}

extension Double: ProtoFieldValue {
  public static var protoDefault: Double { 0 }

  public init(protoValue: ProtoValue) throws(ProtoError) {
    guard case .double(let value) = protoValue else {
      throw ProtoError.mismatch(expected: "double", found: protoValue)
    }
    self = value
  }

  public var protoValue: ProtoValue { .double(self) }
}

extension String: ProtoMapKey {
  public static var protoDefault: String { "" }

  public init(protoValue: ProtoValue) throws(ProtoError) {
    guard case .string(let value) = protoValue else {
      throw ProtoError.mismatch(expected: "string", found: protoValue)
    }
    self = value
  }

  public var protoValue: ProtoValue { .string(self) }
}

extension [UInt8]: ProtoFieldValue {
  public static var protoDefault: [UInt8] { [] }

  public init(protoValue: ProtoValue) throws(ProtoError) {
    guard case .bytes(let value) = protoValue else {
      throw ProtoError.mismatch(expected: "bytes", found: protoValue)
    }
    self = value
  }

  public var protoValue: ProtoValue { .bytes(self) }
}
