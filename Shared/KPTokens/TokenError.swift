/// A token, key or secret that cannot be used: malformed, forged, expired, or from the wrong
/// tenant.
///
/// The ``message`` says what is wrong without repeating the token. Errors compare equal when
/// their codes are equal.
public struct TokenError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What kind of problem this is. New codes may be added; match with `==`, not exhaustively.
  public struct Code: Sendable, Hashable, CustomStringConvertible {
    private let name: String

    private init(_ name: String) {
      self.name = name
    }

    /// The token is not three base64url parts of JSON, or a claim has the wrong shape.
    public static let malformed = Code("malformed")
    /// The header names an algorithm other than EdDSA (such as `none` or `HS256`).
    public static let unsupportedAlgorithm = Code("unsupportedAlgorithm")
    /// The header names a key id that no known key has.
    public static let unknownKey = Code("unknownKey")
    /// The signature is missing or does not verify.
    public static let badSignature = Code("badSignature")
    /// The token's lifetime is over.
    public static let expired = Code("expired")
    /// The token was issued in the future, or lives longer than tokens may.
    public static let invalidLifetime = Code("invalidLifetime")
    /// The token belongs to a tenant other than the one expected.
    public static let wrongTenant = Code("wrongTenant")
    /// A key could not be created, read or used.
    public static let keyFailure = Code("keyFailure")
    /// An opaque secret does not have the platform's shape.
    public static let malformedSecret = Code("malformedSecret")

    /// The code's name, such as `expired`.
    public var description: String { name }
  }

  /// What kind of problem this is.
  public var code: Code

  /// A description a person can act on; it never contains the token.
  public var message: String

  /// Creates an error.
  ///
  /// - Parameters:
  ///   - code: What kind of problem this is.
  ///   - message: A description a person can act on.
  public init(code: Code, message: String) {
    self.code = code
    self.message = message
  }

  public static func == (lhs: TokenError, rhs: TokenError) -> Bool {
    lhs.code == rhs.code
  }

  /// The code and the message.
  public var description: String { "\(code): \(message)" }
}
