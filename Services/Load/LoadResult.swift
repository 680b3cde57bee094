/// What a run measured.
struct LoadResult: Sendable {
  /// What ended the measured phase.
  enum Stop: String, Sendable {
    /// Every request of `--requests` was sent.
    case requests
    /// `--duration` passed.
    case duration
    /// A signal (Control-C) asked the run to end.
    case interrupt
  }

  /// One tally per tenant, in the corpora's order.
  var tenants: [LoadTally]
  /// Every call sent, sampling and warm-up included.
  var ledger: CallLedger
  /// Requests sent during the warm-up.
  var warmupRequests: Int
  /// From the end of the warm-up to the last response.
  var elapsed: Duration
  /// What ended the run.
  var stoppedBy: Stop
}
