/// The calls the driver makes to the gateway, whatever the transport.
protocol GatewayClient: Sendable {
  /// What the report calls the transport, such as `rpc`.
  var transport: String { get }

  /// Reads up to `count` of a tenant's documents with their text.
  ///
  /// - Returns: Every call made, in order (the last one failed when sampling failed), and the
  ///   documents.
  func sample(
    count: Int, as tenant: TenantCredential
  ) async -> (calls: [CallOutcome], documents: [SampledDocument])

  /// Searches; the outcome names the hits' document ids.
  func search(_ query: String, as tenant: TenantCredential) async -> CallOutcome

  /// Reads one document by id.
  func get(_ id: String, as tenant: TenantCredential) async -> CallOutcome

  /// Submits a batch of one document with an idempotency key.
  func ingest(
    _ document: GeneratedDocument, idempotencyKey: String, as tenant: TenantCredential
  ) async -> CallOutcome

  /// Closes the connections.
  func close()
}
