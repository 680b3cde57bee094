/// What the driver knows of a tenant's documents before the run: ids to read and terms to
/// search for.
struct TenantCorpus: Sendable, Equatable {
  /// The tenant and its credential.
  var tenant: TenantCredential
  /// Document ids from the sample.
  var documentIDs: [String]
  /// Query terms from the sample's titles and text.
  var terms: [String]

  /// Samples each tenant's documents through the gateway.
  ///
  /// - Parameters:
  ///   - client: The gateway.
  ///   - options: The run's options.
  /// - Returns: One corpus per tenant, in the options' order, and the sampling calls.
  /// - Throws: ``LoadError`` when the gateway cannot be reached, refuses a credential, or a
  ///   tenant has nothing to search while the mix searches or reads.
  static func sample(
    _ client: some GatewayClient, options: LoadOptions
  ) async throws(LoadError) -> (corpora: [TenantCorpus], ledger: CallLedger) {
    var corpora: [TenantCorpus] = []
    var ledger = CallLedger()
    for tenant in options.credentials {
      let (calls, documents) = await client.sample(count: options.sampleDocuments, as: tenant)
      for call in calls { ledger.record(call) }
      if let failed = calls.first(where: { !$0.succeeded }) {
        throw failure(failed, tenant: tenant, options: options)
      }
      let corpus = TenantCorpus(
        tenant: tenant, documentIDs: documents.map(\.id),
        terms: TermExtractor.terms(of: documents))
      let readsOrSearches = options.mix.weight(of: .search) + options.mix.weight(of: .get) > 0
      if readsOrSearches && (corpus.terms.isEmpty || corpus.documentIDs.isEmpty) {
        throw LoadError(
          .noDocuments,
          "tenant '\(tenant.tenant)' has no document with searchable words, so searches and "
            + "reads would find nothing; ingest documents first, or run with --mix ingest=1")
      }
      corpora.append(corpus)
    }
    return (corpora, ledger)
  }

  /// The error for a failed sampling call.
  private static func failure(
    _ outcome: CallOutcome, tenant: TenantCredential, options: LoadOptions
  ) -> LoadError {
    switch outcome.code {
    case "UNAVAILABLE", "DEADLINE_EXCEEDED", "UNREACHABLE", "TIMEOUT", "TLS", "CLOSED":
      LoadError(
        .unreachable,
        "the gateway at \(options.endpoint) does not answer (\(outcome.code)): "
          + "\(outcome.message); check that it runs, that --target (or --https-target) names "
          + "its port and that --ca-file holds the CA of its certificate")
    case "UNAUTHENTICATED", "PERMISSION_DENIED":
      LoadError(
        .refused,
        "the gateway refused the credential of tenant '\(tenant.tenant)' (\(outcome.code)): "
          + outcome.message)
    default:
      LoadError(
        .refused,
        "listing the documents of tenant '\(tenant.tenant)' failed (\(outcome.code)): "
          + outcome.message)
    }
  }
}
