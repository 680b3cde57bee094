/// Why a load run could not start or finish: a code and a message a person can act on.
///
/// Errors compare equal when their codes are equal.
struct LoadError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What kind of problem this is. New codes may be added; match with `==`.
  struct Code: Sendable, Hashable, CustomStringConvertible {
    private let name: String

    private init(_ name: String) {
      self.name = name
    }

    /// A setting has a value of the wrong shape or out of range.
    static let invalidSetting = Code("invalidSetting")
    /// The credentials file cannot be read or has a malformed line.
    static let invalidCredentials = Code("invalidCredentials")
    /// The gateway cannot be reached, or its TLS handshake fails.
    static let unreachable = Code("unreachable")
    /// The gateway refused a tenant's credential.
    static let refused = Code("refused")
    /// A tenant has no document a search finds, so searches would find nothing.
    static let noDocuments = Code("noDocuments")
    /// The report could not be written.
    static let output = Code("output")

    /// The code's name, such as `unreachable`.
    var description: String { name }
  }

  /// What kind of problem this is.
  var code: Code
  /// A description a person can act on.
  var message: String

  /// Makes an error.
  init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  static func == (lhs: LoadError, rhs: LoadError) -> Bool { lhs.code == rhs.code }

  /// The message.
  var description: String { message }
}
