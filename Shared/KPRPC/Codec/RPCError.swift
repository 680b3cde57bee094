public import KPProtocol

/// The status a call ends with: one of gRPC's codes and a message for a person.
///
/// Handlers throw an `RPCError` to end a call with a status other than OK; clients receive one
/// when a call fails. Two errors are equal when their codes are.
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The status code, with gRPC's numbering.
  public var code: Code
  /// What went wrong, in words a caller can act on.
  public var message: String
  /// Metadata sent with the status, for a program rather than a person: a handler sets it, and
  /// the caller's error carries what the server sent, such as `retry-after-seconds`
  /// (``MetadataKey/retryAfterSeconds``). Empty for errors raised on the caller's side.
  public var trailers: Metadata

  /// Makes an error with a code, a message and, optionally, trailers.
  public init(_ code: Code, _ message: String, trailers: Metadata = Metadata()) {
    self.code = code
    self.message = message
    self.trailers = trailers
  }

  public static func == (lhs: RPCError, rhs: RPCError) -> Bool { lhs.code == rhs.code }

  /// The `retry-after-seconds` trailer: whole seconds after which trying again may succeed.
  /// Reads nil unless the trailer is a whole number from 0 to a day; setting nil removes it.
  public var retryAfterSeconds: Int? {
    get {
      guard let text = trailers[MetadataKey.retryAfterSeconds], let seconds = Int(text),
        (0...86_400).contains(seconds)
      else { return nil }
      return seconds
    }
    set {
      trailers.remove(MetadataKey.retryAfterSeconds)
      if let newValue { trailers.add(MetadataKey.retryAfterSeconds, String(newValue)) }
    }
  }

  public var description: String { "\(code.name): \(message)" }

  /// A status code. Open: a peer may send a number this version does not name.
  public struct Code: Sendable, Hashable, CustomStringConvertible {
    /// The wire value.
    public var rawValue: Int32

    /// Makes a code from its wire value.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let ok = Code(rawValue: 0)
    public static let cancelled = Code(rawValue: 1)
    public static let unknown = Code(rawValue: 2)
    public static let invalidArgument = Code(rawValue: 3)
    public static let deadlineExceeded = Code(rawValue: 4)
    public static let notFound = Code(rawValue: 5)
    public static let alreadyExists = Code(rawValue: 6)
    public static let permissionDenied = Code(rawValue: 7)
    public static let resourceExhausted = Code(rawValue: 8)
    public static let failedPrecondition = Code(rawValue: 9)
    public static let aborted = Code(rawValue: 10)
    public static let outOfRange = Code(rawValue: 11)
    public static let unimplemented = Code(rawValue: 12)
    public static let internalError = Code(rawValue: 13)
    public static let unavailable = Code(rawValue: 14)
    public static let dataLoss = Code(rawValue: 15)
    public static let unauthenticated = Code(rawValue: 16)

    private static let names = [
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED",
    ]

    /// The code's name as gRPC spells it, such as `DEADLINE_EXCEEDED`.
    public var name: String {
      rawValue >= 0 && Int(rawValue) < Code.names.count
        ? Code.names[Int(rawValue)] : "CODE_\(rawValue)"
    }

    public var description: String { name }

    /// The wire enum for this code.
    public var wireValue: Kp_Wire_V1_StatusCode { Kp_Wire_V1_StatusCode(rawValue: rawValue) }

    /// The code for a wire enum.
    public init(_ wire: Kp_Wire_V1_StatusCode) { self.rawValue = wire.rawValue }
  }
}

extension RPCError {
  static func unavailable(_ message: String) -> RPCError { RPCError(.unavailable, message) }
  static func deadlineExceeded() -> RPCError {
    RPCError(.deadlineExceeded, "the call's deadline passed before it completed")
  }
  static func cancelled(_ message: String = "the call was cancelled") -> RPCError {
    RPCError(.cancelled, message)
  }
  static func messageTooLarge(_ count: Int, limit: Int) -> RPCError {
    RPCError(
      .resourceExhausted,
      "a message of \(count) bytes exceeds the \(limit) bytes the peer accepts in one frame")
  }
}
