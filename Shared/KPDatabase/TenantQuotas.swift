/// The limits a tenant works within: its plan's, with any overrides of its own applied.
public struct TenantQuotas: Sendable, Hashable {
  /// Sustained requests per second at the gateway.
  public var requestsPerSecond: Int
  /// Requests above the sustained rate that may arrive at once.
  public var burst: Int
  /// The most documents the tenant may store.
  public var maximumDocuments: Int
  /// The most bytes of document text the tenant may store.
  public var maximumStoredBytes: Int
  /// The largest single document, in bytes.
  public var maximumDocumentBytes: Int

  /// Makes quotas.
  ///
  /// - Parameters:
  ///   - requestsPerSecond: Sustained requests per second.
  ///   - burst: Requests above the rate that may arrive at once.
  ///   - maximumDocuments: The most documents.
  ///   - maximumStoredBytes: The most bytes stored.
  ///   - maximumDocumentBytes: The largest document.
  public init(
    requestsPerSecond: Int, burst: Int, maximumDocuments: Int, maximumStoredBytes: Int,
    maximumDocumentBytes: Int
  ) {
    self.requestsPerSecond = requestsPerSecond
    self.burst = burst
    self.maximumDocuments = maximumDocuments
    self.maximumStoredBytes = maximumStoredBytes
    self.maximumDocumentBytes = maximumDocumentBytes
  }
}
