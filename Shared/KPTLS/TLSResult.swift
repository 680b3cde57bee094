/// The outcome of one non-blocking TLS operation.
///
/// `wantRead` and `wantWrite` are not failures: the operation needs the socket to become
/// readable (or writable) and must then be retried with the same arguments.
public enum TLSResult<T> {
  /// The operation completed with a value.
  case ok(T)

  /// Retry once the socket is readable.
  case wantRead

  /// Retry once the socket is writable.
  case wantWrite

  /// The peer closed the TLS session cleanly (close_notify).
  case closed

  /// The operation failed; the session cannot be used any more.
  case failed(TLSError)
}

extension TLSResult: Sendable where T: Sendable {}
