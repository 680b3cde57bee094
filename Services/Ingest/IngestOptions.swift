import KPDocuments

/// How kp-ingest accepts and processes batches, with documented defaults; the settings in
/// ``IngestSettings`` fill it from flags, environment and configuration file.
struct IngestOptions: Sendable {
  /// The most documents one batch may carry. Default 1,000.
  var maximumBatchDocuments = 1_000
  /// The most content bytes one batch may carry, all documents together. Default 3 MiB, under
  /// the RPC frame limit of 4 MiB.
  var maximumBatchBytes = 3 << 20
  /// The largest document accepted, whatever the tenant's plan allows. Default 2 MiB.
  var maximumDocumentBytes = 2 << 20
  /// The limits normalising works within; its input limit is set per document.
  var normalization = NormalizationLimits()
  /// The chunk size and overlap.
  var chunking = DocumentChunker.Configuration()
  /// Jobs processed at once by this process. Default 2.
  var workers = 2
  /// How often an idle worker looks for due work. Default 1 s.
  var pollInterval: Duration = .seconds(1)
  /// How long a claimed job stays with its worker without a sign of life. Default 30 s.
  var lease: Duration = .seconds(30)
  /// Attempts at a job before it is parked as failed. Default 8.
  var maximumAttempts = 8
  /// The wait after the first failed attempt; it doubles after each. Default 1 s.
  var initialBackoff: Duration = .seconds(1)
  /// The longest wait between attempts. Default 5 minutes.
  var maximumBackoff: Duration = .seconds(300)
  /// How often every tenant is checked for unfinished jobs missing from the index. Default
  /// 10 minutes.
  var sweepInterval: Duration = .seconds(600)
  /// The time one call to the knowledge store may take. Default 30 s.
  var knowledgeTimeout: Duration = .seconds(30)
  /// The largest upsert request sent to the knowledge store, in serialized bytes. Default
  /// 3,500,000, under its RPC frame limit of 4 MiB.
  var knowledgeRequestBytes = 3_500_000
  /// Documents sent to the knowledge store in one call at most. Default 100.
  var knowledgeBatchDocuments = 100
}
