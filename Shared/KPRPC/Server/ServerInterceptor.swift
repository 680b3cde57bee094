/// A hook around every call a server handles: logging, metrics, authentication, tracing.
///
/// An interceptor sees the call's context before the handler runs and the error it ends with.
/// It may refuse the call by throwing an `RPCError`, or change the context passed on.
public protocol ServerInterceptor: Sendable {
  /// Runs around the rest of the chain; call `next` to continue it.
  func intercept(
    _ context: ServerContext,
    next: @Sendable (ServerContext) async throws -> Void
  ) async throws
}
