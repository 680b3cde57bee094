/// An error from the TLS layer: a broad, stable ``Code`` and a message a person can act on.
///
/// The message names what went wrong in plain words ("peer certificate has expired") and
/// ends with the text of OpenSSL's error queue when OpenSSL reported anything, so operators
/// can see the underlying reason. Two errors are equal when their codes are equal; the
/// message is for people, not for matching.
public struct TLSError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The broad kind of a ``TLSError``. New codes may be added; match the ones you handle
  /// and treat the rest alike.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Value: Hashable, Sendable {
      case configuration
      case handshakeFailed
      case certificateRejected
      case peerIdentityMismatch
      case protocolVersion
      case applicationProtocol
      case protocolError
      case io
    }

    private let value: Value

    private init(_ value: Value) {
      self.value = value
    }

    /// The configuration could not be applied: a file is missing or unreadable, a key does
    /// not match its certificate, or a setting is invalid.
    public static let configuration = Code(.configuration)

    /// The handshake failed for a reason not covered by a more specific code, for example
    /// a peer that does not speak TLS at all.
    public static let handshakeFailed = Code(.handshakeFailed)

    /// A certificate was refused: the peer's by this side (missing, expired, from an
    /// untrusted CA, wrong host name) or this side's by the peer (reported by an alert).
    public static let certificateRejected = Code(.certificateRejected)

    /// The peer's certificate is valid but names another identity than the one expected.
    public static let peerIdentityMismatch = Code(.peerIdentityMismatch)

    /// The peer does not support an accepted TLS version (TLS 1.3 by default).
    public static let protocolVersion = Code(.protocolVersion)

    /// The peers have no application protocol (ALPN) in common, or the peer negotiated
    /// none while one is required.
    public static let applicationProtocol = Code(.applicationProtocol)

    /// The peer broke the TLS protocol after the handshake (a bad record, an unexpected
    /// alert).
    public static let protocolError = Code(.protocolError)

    /// The socket failed or the peer closed it without a TLS close_notify.
    public static let io = Code(.io)

    public var description: String {
      switch value {
      case .configuration: "configuration"
      case .handshakeFailed: "handshakeFailed"
      case .certificateRejected: "certificateRejected"
      case .peerIdentityMismatch: "peerIdentityMismatch"
      case .protocolVersion: "protocolVersion"
      case .applicationProtocol: "applicationProtocol"
      case .protocolError: "protocolError"
      case .io: "io"
      }
    }
  }

  /// The broad kind of the error.
  public var code: Code

  /// What went wrong, for a person; ends with OpenSSL's error-queue text when there was any.
  public var message: String

  /// Creates an error.
  ///
  /// - Parameters:
  ///   - code: The broad kind of the error.
  ///   - message: What went wrong, for a person.
  public init(code: Code, message: String) {
    self.code = code
    self.message = message
  }

  public var description: String {
    "TLSError(\(code)): \(message)"
  }

  /// Errors are equal when their codes are equal.
  public static func == (lhs: TLSError, rhs: TLSError) -> Bool {
    lhs.code == rhs.code
  }
}
