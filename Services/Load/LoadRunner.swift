/// Runs the workers: each sends one request at a time as its tenant, first unrecorded for the
/// warm-up, then measured until the request budget or the duration runs out.
struct LoadRunner<Client: GatewayClient>: Sendable {
  private struct WorkerResult: Sendable {
    var tenant: Int
    var tally = LoadTally()
    var ledger = CallLedger()
    var warmupRequests = 0
  }

  let options: LoadOptions
  let client: Client
  let corpora: [TenantCorpus]
  /// Makes this run's idempotency keys and external ids distinct from earlier runs'.
  let runID: String
  /// The measured requests, shared by the workers; interrupting it ends the run early.
  let budget: RequestBudget

  /// Runs every worker to the end.
  func run() async -> LoadResult {
    let clock = ContinuousClock()
    let measureStart = clock.now.advanced(by: options.warmup)
    let measureEnd = measureStart.advanced(by: options.duration)

    var tenants = [LoadTally](repeating: LoadTally(), count: corpora.count)
    var ledger = CallLedger()
    var warmupRequests = 0
    await withTaskGroup(of: WorkerResult.self) { group in
      for worker in 0..<options.concurrency {
        group.addTask {
          await work(worker: worker, budget: budget, from: measureStart, until: measureEnd)
        }
      }
      for await result in group {
        tenants[result.tenant].merge(result.tally)
        ledger.merge(result.ledger)
        warmupRequests += result.warmupRequests
      }
    }

    let finished = clock.now
    return LoadResult(
      tenants: tenants, ledger: ledger, warmupRequests: warmupRequests,
      elapsed: finished > measureStart ? measureStart.duration(to: finished) : .zero,
      stoppedBy: budget.isInterrupted
        ? .interrupt : budget.isExhausted ? .requests : .duration)
  }

  private func work(
    worker: Int, budget: RequestBudget, from measureStart: ContinuousClock.Instant,
    until measureEnd: ContinuousClock.Instant
  ) async -> WorkerResult {
    let clock = ContinuousClock()
    let corpus = corpora[worker % corpora.count]
    var generator = SeededGenerator(seed: options.seed, stream: UInt64(worker))
    var documentIDs = corpus.documentIDs
    var known = Set(documentIDs)
    var result = WorkerResult(tenant: worker % corpora.count)
    var sequence = 0

    while !Task.isCancelled && !budget.isInterrupted {
      // Each request is measured when it starts after the warm-up and gets a share of the budget.
      let started = clock.now
      guard started < measureEnd else { break }
      let measured = started >= measureStart
      if measured && !budget.claim() { break }
      let operation = options.mix.pick(using: &generator)
      sequence += 1

      let outcome: CallOutcome
      switch operation {
      case .search:
        let terms = corpus.terms.isEmpty ? TermExtractor.fallbackVocabulary : corpus.terms
        let term = terms[Int.random(in: 0..<terms.count, using: &generator)]
        outcome = await client.search(term, as: corpus.tenant)
        for id in outcome.documentIDs.prefix(3) where documentIDs.count < 1000 {
          if known.insert(id).inserted { documentIDs.append(id) }
        }
      case .get:
        let id =
          documentIDs.isEmpty
          ? "" : documentIDs[Int.random(in: 0..<documentIDs.count, using: &generator)]
        outcome = await client.get(id, as: corpus.tenant)
      case .ingest:
        let key = "kp-load-\(runID)-\(worker)-\(sequence)"
        let document = GeneratedDocument.make(
          externalID: key, terms: corpus.terms, using: &generator)
        outcome = await client.ingest(document, idempotencyKey: key, as: corpus.tenant)
      }

      // Warm-up calls count in the ledger only.
      let latency = started.duration(to: clock.now)
      result.ledger.record(outcome)
      if measured {
        result.tally.record(operation, outcome, latency: latency)
      } else {
        result.warmupRequests += 1
      }
    }
    return result
  }
}
