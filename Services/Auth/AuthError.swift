import KPRPC

/// A request kp-auth refuses or cannot complete, with the RPC status it ends with.
///
/// Errors compare equal when their codes are equal. The message goes to the caller, so it never
/// holds a password, token, key or hash, and never says whether an email is registered.
struct AuthError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What kind of problem this is. New codes may be added; match with `==`.
  struct Code: Sendable, Hashable, CustomStringConvertible {
    private let name: String
    /// The status a call ends with for this code.
    let status: RPCError.Code

    private init(_ name: String, _ status: RPCError.Code) {
      self.name = name
      self.status = status
    }

    /// A field of the request is missing or malformed.
    static let invalidArgument = Code("invalidArgument", .invalidArgument)
    /// The object does not exist in the caller's tenant (also when it exists in another).
    static let notFound = Code("notFound", .notFound)
    /// An object with the same unique name exists.
    static let alreadyExists = Code("alreadyExists", .alreadyExists)
    /// No valid credential: bad password, bad or expired token, revoked key.
    static let unauthenticated = Code("unauthenticated", .unauthenticated)
    /// The credential is valid but may not do this.
    static let permissionDenied = Code("permissionDenied", .permissionDenied)
    /// Too many failed sign-ins: slowed down or locked.
    static let throttled = Code("throttled", .resourceExhausted)
    /// The request conflicts with the state of things, such as removing the last owner.
    static let failedPrecondition = Code("failedPrecondition", .failedPrecondition)
    /// A dependency (the database, the tenant registry) cannot be reached.
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
  /// Whole seconds after which trying again may succeed, sent to the caller as the
  /// `retry-after-seconds` trailer; nil when waiting does not help.
  var retryAfterSeconds: Int?

  /// Creates an error.
  init(_ code: Code, _ message: String, retryAfterSeconds: Int? = nil) {
    self.code = code
    self.message = message
    self.retryAfterSeconds = retryAfterSeconds
  }

  static func == (lhs: AuthError, rhs: AuthError) -> Bool { lhs.code == rhs.code }

  var description: String { "\(code): \(message)" }

  /// The RPC status the call ends with.
  var rpcError: RPCError {
    var error = RPCError(code.status, message)
    error.retryAfterSeconds = retryAfterSeconds
    return error
  }
}
