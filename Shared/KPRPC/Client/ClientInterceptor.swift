/// A hook around the calls a channel makes: adding credentials or trace metadata, logging,
/// metrics.
///
/// `willStart` runs before every call and may change its metadata or refuse it by throwing.
/// `didFinish` runs when a unary or client-streaming call ends (streams that return their
/// responses as a sequence end when the caller stops reading, which the channel does not see).
public protocol ClientInterceptor: Sendable {
  /// Called before a call starts, in interceptor order.
  func willStart(method: String, metadata: inout Metadata) throws(RPCError)

  /// Called when a unary or client-streaming call ended; `error` is nil for OK.
  func didFinish(method: String, error: RPCError?, duration: Duration)
}

extension ClientInterceptor {
  public func willStart(method: String, metadata: inout Metadata) throws(RPCError) {}

  public func didFinish(method: String, error: RPCError?, duration: Duration) {}
}
