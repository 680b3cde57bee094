/// One side of a call as its connection sees it: where received frames go.
///
/// Every method is called on the connection's event loop.
protocol CallEndpoint: AnyObject {
  /// A message arrived.
  func receive(_ data: [UInt8])
  /// The peer will send no more messages.
  func receiveEnd()
  /// The peer granted send credit.
  func grant(_ bytes: Int)
  /// The call is over: ended with a status (client), cancelled, timed out, or its connection
  /// closed. `error` is nil for an OK status.
  func terminate(_ error: RPCError?, trailers: Metadata)
}
