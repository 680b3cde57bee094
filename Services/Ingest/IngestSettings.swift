import KPDocuments
import KPServiceKit

/// kp-ingest's own settings, with their defaults (those of ``IngestOptions``).
enum IngestSettings {
  static let all: [Setting] = [
    Setting(
      "knowledge-address",
      help: "Where the knowledge store listens (host:port, several separated by commas).",
      valueName: "host:port", default: "127.0.0.1:7103"),
    Setting(
      "max-batch-documents", help: "The most documents one submitted batch may carry.",
      valueName: "count", default: "1000"),
    Setting(
      "max-batch-bytes",
      help: "The most content bytes one submitted batch may carry, all documents together; "
        + "keep it under max-frame-bytes.",
      valueName: "bytes", default: "\(3 << 20)"),
    Setting(
      "ingest-max-document-bytes",
      help: "The largest document accepted, whatever the tenant's plan allows.",
      valueName: "bytes", default: "\(2 << 20)"),
    Setting(
      "ingest-max-document-characters",
      help: "The most characters of text kept from one document; the rest is dropped.",
      valueName: "count", default: "4000000"),
    Setting(
      "ingest-max-html-depth", help: "The deepest HTML element nesting kept.",
      valueName: "count", default: "256"),
    Setting(
      "ingest-max-pdf-pages", help: "The most PDF pages whose text is read.",
      valueName: "count", default: "5000"),
    Setting(
      "ingest-chunk-characters", help: "The most characters in one indexed chunk.",
      valueName: "count", default: "1500"),
    Setting(
      "ingest-chunk-overlap",
      help: "Characters of a chunk's end repeated at the start of the next.",
      valueName: "count", default: "200"),
    Setting(
      "workers", help: "Jobs this process works on at once.", valueName: "count", default: "2"),
    Setting(
      "poll-interval-ms", help: "How often an idle worker looks for due jobs.",
      valueName: "milliseconds", default: "1000"),
    Setting(
      "lease-seconds",
      help: "How long a claimed job stays with its worker without progress before another "
        + "worker may take it over.",
      valueName: "seconds", default: "30"),
    Setting(
      "max-attempts", help: "Attempts at a job before it is parked as failed.",
      valueName: "count", default: "8"),
    Setting(
      "retry-initial-ms", help: "The wait after a job's first failed attempt; it doubles.",
      valueName: "milliseconds", default: "1000"),
    Setting(
      "retry-max-seconds", help: "The longest wait between a job's attempts.",
      valueName: "seconds", default: "300"),
    Setting(
      "sweep-interval-seconds",
      help: "How often every tenant is checked for unfinished jobs missing from the index of "
        + "pending work (also done at start-up).",
      valueName: "seconds", default: "600"),
    Setting(
      "knowledge-timeout-seconds", help: "The time one call to the knowledge store may take.",
      valueName: "seconds", default: "30"),
    Setting(
      "knowledge-max-request-bytes",
      help: "The largest upsert sent to the knowledge store; keep it under its max-frame-bytes.",
      valueName: "bytes", default: "3500000"),
  ]

  /// The options the settings give.
  ///
  /// - Throws: ``ConfigurationError`` naming the setting that is out of range.
  static func options(
    _ configuration: ServiceConfiguration
  ) throws(ConfigurationError) -> IngestOptions {
    var options = IngestOptions()
    options.maximumBatchDocuments = try configuration.integer(
      "max-batch-documents", in: 1...100_000)
    options.maximumBatchBytes = try configuration.integer("max-batch-bytes", in: 1...(1 << 30))
    options.maximumDocumentBytes = try configuration.integer(
      "ingest-max-document-bytes", in: 1...(1 << 30))
    options.normalization = NormalizationLimits(
      maximumInputBytes: options.maximumDocumentBytes,
      maximumOutputCharacters: try configuration.integer(
        "ingest-max-document-characters", in: 1...(1 << 30)),
      maximumHTMLDepth: try configuration.integer("ingest-max-html-depth", in: 1...100_000),
      maximumPDFPages: try configuration.integer("ingest-max-pdf-pages", in: 1...1_000_000))
    options.chunking = DocumentChunker.Configuration(
      maximumCharacters: try configuration.integer("ingest-chunk-characters", in: 1...1_000_000),
      overlapCharacters: try configuration.integer("ingest-chunk-overlap", in: 0...500_000))
    guard (try? DocumentChunker(configuration: options.chunking)) != nil else {
      throw ConfigurationError(
        code: .invalidValue,
        message: "setting 'ingest-chunk-overlap' must be at most half of "
          + "'ingest-chunk-characters'")
    }
    options.workers = try configuration.integer("workers", in: 1...256)
    options.pollInterval = .milliseconds(
      try configuration.integer("poll-interval-ms", in: 10...600_000))
    options.lease = .seconds(try configuration.integer("lease-seconds", in: 1...86_400))
    options.maximumAttempts = try configuration.integer("max-attempts", in: 1...10_000)
    options.initialBackoff = .milliseconds(
      try configuration.integer("retry-initial-ms", in: 1...3_600_000))
    options.maximumBackoff = .seconds(
      try configuration.integer("retry-max-seconds", in: 1...86_400))
    options.sweepInterval = .seconds(
      try configuration.integer("sweep-interval-seconds", in: 1...604_800))
    options.knowledgeTimeout = .seconds(
      try configuration.integer("knowledge-timeout-seconds", in: 1...3600))
    options.knowledgeRequestBytes = try configuration.integer(
      "knowledge-max-request-bytes", in: 4096...(1 << 30))
    return options
  }
}
