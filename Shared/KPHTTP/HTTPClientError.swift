/// Why an ``HTTPSClient`` request got no response: a stable ``Code`` and a message naming
/// the server and what failed, fit to show a person.
public struct HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The kind of failure.
  public enum Code: String, Sendable {
    /// The host name does not resolve, or no address accepted the connection.
    case unreachable = "UNREACHABLE"
    /// The TLS handshake failed (for example the certificate is not trusted).
    case tls = "TLS"
    /// The server did not answer within the timeout.
    case timeout = "TIMEOUT"
    /// The server closed the connection before the response was complete.
    case closed = "CLOSED"
    /// The server's bytes are not a valid HTTP/1.1 response.
    case protocolError = "PROTOCOL"
    /// The response is larger than the client accepts.
    case responseTooLarge = "RESPONSE_TOO_LARGE"
    /// The request itself cannot be sent (such as a header with a line break).
    case invalidRequest = "INVALID_REQUEST"
  }

  /// What failed.
  public var code: Code
  /// What failed, in plain words.
  public var message: String

  /// Makes an error.
  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public static func == (lhs: HTTPClientError, rhs: HTTPClientError) -> Bool {
    lhs.code == rhs.code
  }

  public var description: String { message }
}
