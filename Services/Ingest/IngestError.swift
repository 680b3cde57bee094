import KPRPC

/// A request kp-ingest refuses or cannot complete, with the RPC status it ends with.
///
/// Errors compare equal when their codes are equal. The message goes to the caller: it names
/// the limit, quota or field at fault, never document text.
struct IngestError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What kind of problem this is. New codes may be added; match with `==`.
  struct Code: Sendable, Hashable, CustomStringConvertible {
    private let name: String
    /// The status a call ends with for this code.
    let status: RPCError.Code

    private init(_ name: String, _ status: RPCError.Code) {
      self.name = name
      self.status = status
    }

    /// A field of the request is missing or malformed, or a limit on its form is passed.
    static let invalidArgument = Code("invalidArgument", .invalidArgument)
    /// A size limit or a plan quota is passed.
    static let resourceExhausted = Code("resourceExhausted", .resourceExhausted)
    /// The job or tenant does not exist for the caller (also when another tenant has it).
    static let notFound = Code("notFound", .notFound)
    /// The tenant cannot take work now (suspended, or its schema not yet migrated).
    static let failedPrecondition = Code("failedPrecondition", .failedPrecondition)
    /// The database cannot be reached.
    static let unavailable = Code("unavailable", .unavailable)
    /// A fault of the service itself.
    static let internalFailure = Code("internalFailure", .internalError)

    var description: String { name }

    static func == (lhs: Code, rhs: Code) -> Bool { lhs.name == rhs.name }
    func hash(into hasher: inout Hasher) { hasher.combine(name) }
  }

  /// What kind of problem this is.
  var code: Code
  /// What the caller is told.
  var message: String

  /// Creates an error.
  init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  static func == (lhs: IngestError, rhs: IngestError) -> Bool { lhs.code == rhs.code }

  var description: String { "\(code): \(message)" }

  /// The RPC status the call ends with.
  var rpcError: RPCError { RPCError(code.status, message) }
}
