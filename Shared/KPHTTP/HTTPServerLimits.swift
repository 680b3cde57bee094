/// What an ``HTTPServer`` allows a client, with documented defaults and the answer each
/// limit gives.
///
/// Every limit bounds either time or memory, so nothing a client sends keeps a connection,
/// or memory, forever.
public struct HTTPServerLimits: Sendable, Equatable {
  /// The largest header block (request line, header fields and their line ends, and
  /// trailers of a chunked body), in bytes. Larger requests get 431. Default 16 KiB.
  public var maximumHeaderSize = 16 * 1024
  /// The longest request-target (the URL in the request line), in bytes. Longer ones get
  /// 414. Default 8 KiB; values above 65,535 act as 65,535.
  public var maximumURLLength = 8 * 1024
  /// The largest request body, in bytes. A `Content-Length` above it gets 413 before any
  /// of the body is read; a chunked body gets 413 as soon as it grows past it. Default 8 MiB.
  public var maximumBodySize = 8 * 1024 * 1024
  /// The whole request, from its first byte to the end of its body, must arrive within
  /// this time; otherwise the client gets 408 and the connection closes. This cuts off
  /// clients that trickle bytes (slowloris). Default 30 s.
  public var requestTimeout: Duration = .seconds(30)
  /// A keep-alive connection with no request in progress for this long is closed.
  /// Default 60 s.
  public var idleTimeout: Duration = .seconds(60)
  /// The TLS handshake must finish within this time after the connection is accepted, or
  /// the connection is closed. Default 10 s.
  public var handshakeTimeout: Duration = .seconds(10)
  /// A response the client does not read within this time closes the connection.
  /// Default 30 s.
  public var writeTimeout: Duration = .seconds(30)
  /// Connections open at once, handshakes included; more are closed as soon as they are
  /// accepted. Default 10,000.
  public var maximumConnections = 10_000
  /// Requests served on one connection; the last one's response says `Connection: close`.
  /// Default 1,000.
  public var maximumRequestsPerConnection = 1_000

  /// The defaults.
  public init() {}
}
