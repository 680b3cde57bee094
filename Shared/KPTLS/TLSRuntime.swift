#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Process-wide set-up for programs that use TLS sessions.
public enum TLSRuntime {
  /// Ignores `SIGPIPE` for the whole process.
  ///
  /// OpenSSL writes to sockets with `write(2)`, so writing to a connection the peer has
  /// closed raises `SIGPIPE`, whose default action ends the process. Call this once at
  /// start-up, before the first connection; the failed write then reports `EPIPE`, which a
  /// ``TLSSession`` returns as a ``TLSError`` with code ``TLSError/Code/io``.
  public static func ignoreSIGPIPE() {
    _ = signal(SIGPIPE, SIG_IGN)
  }
}
