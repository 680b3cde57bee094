import Foundation
import KPLogging
import KPServiceKit

/// One whole run: sample each tenant's documents through the gateway, run the workers, and
/// gather the report.
enum LoadCommand {
  /// Runs the load described by `options` against `client`.
  ///
  /// - Returns: The report.
  /// - Throws: ``LoadError`` when the gateway cannot be reached, refuses a credential, or a
  ///   tenant has nothing to search.
  static func run(
    options: LoadOptions, client: some GatewayClient, logger: Logger
  ) async throws(LoadError) -> LoadReport {
    try TargetProbe.check(options.endpoint)
    let (corpora, sampling) = try await TenantCorpus.sample(client, options: options)
    logger.info(
      "sampled",
      [
        "tenants": "\(corpora.count)", "terms": "\(corpora.map(\.terms.count).reduce(0, +))",
        "documents": "\(corpora.map(\.documentIDs.count).reduce(0, +))",
      ])

    // A run id keeps this run's idempotency keys apart from earlier runs' with the same seed.
    let runID = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)
    // The first Control-C (or SIGTERM) ends the run early with a report; a second one exits.
    let budget = RequestBudget(limit: options.requests)
    let signals = ShutdownSignalHandler.install { _ in budget.interrupt() }
    var result = await LoadRunner(
      options: options, client: client, corpora: corpora, runID: runID, budget: budget
    ).run()
    signals.cancel()
    var ledger = sampling
    ledger.merge(result.ledger)
    result.ledger = ledger
    logger.info(
      "finished",
      ["run": runID, "calls": "\(ledger.total)", "warmup": "\(result.warmupRequests)"])

    return LoadReport(
      options: options, transport: client.transport, tenantLabels: corpora.map(\.tenant.tenant),
      result: result)
  }
}
