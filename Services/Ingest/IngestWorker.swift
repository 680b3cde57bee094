import Foundation
import KPDatabase
import KPLogging
import KPProtocol
import KPRPC

/// Processes the ingest queue: finds tenants with due jobs in the ``PendingJobIndex``, claims
/// each tenant's oldest unfinished job under a lease, hands its documents to the knowledge
/// store, and records each document's outcome.
///
/// Jobs of one tenant run one at a time, in the order they were submitted. A claimed job is
/// leased to this worker; a worker that dies leaves the lease to expire, after which any worker
/// takes the job over. A document's outcome is recorded only after the knowledge store
/// answered, and the store treats a repeated upsert of the same content as a no-op, so work
/// repeated after a crash stores nothing twice. A failed attempt is retried after an
/// exponential backoff; after ``IngestOptions/maximumAttempts`` the job is parked as failed.
final class IngestWorker: Sendable {
  let databases: TenantDatabases
  let index: PendingJobIndex
  let knowledge: RPCChannel
  let options: IngestOptions
  let preparer: DocumentPreparer
  let wakeups: WakeSignal
  let logger: Logger
  /// This process's name on the leases it holds.
  let owner: String

  /// Makes a worker.
  init(
    databases: TenantDatabases, index: PendingJobIndex, knowledge: RPCChannel,
    options: IngestOptions, preparer: DocumentPreparer, wakeups: WakeSignal, logger: Logger
  ) {
    self.databases = databases
    self.index = index
    self.knowledge = knowledge
    self.options = options
    self.preparer = preparer
    self.wakeups = wakeups
    self.logger = logger
    let host = ProcessInfo.processInfo.hostName.prefix(64)
    owner = "\(host)/\(getpid())/\(UUID().uuidString.prefix(8))"
  }

  /// Installs the index table, sweeps every tenant for jobs missing from it, then works until
  /// the task is cancelled, with ``IngestOptions/workers`` jobs at once.
  func run() async {
    while !Task.isCancelled {
      do {
        try await index.install()
        break
      } catch {
        logger.warning("cannot install the pending-job index; retrying", ["error": "\(error)"])
        try? await Task.sleep(for: .seconds(1))
      }
    }
    await sweep()
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<options.workers {
        group.addTask {
          while !Task.isCancelled {
            if await !self.runOnce() { await self.wakeups.wait(upTo: self.options.pollInterval) }
          }
        }
      }
      group.addTask {
        while !Task.isCancelled {
          try? await Task.sleep(for: self.options.sweepInterval)
          if !Task.isCancelled { await self.sweep() }
        }
      }
    }
  }

  /// Looks for one due job and works on it; returns whether a job was taken.
  func runOnce() async -> Bool {
    let due: [PendingJobIndex.DueTenant]
    do {
      due = try await index.due(limit: options.workers * 4)
    } catch {
      logger.warning("cannot read the pending-job index", ["error": "\(error)"])
      return false
    }
    for tenant in due.shuffled() {
      guard var job = await claim(tenant) else { continue }
      // The tenant's next job follows at once, whatever the index says about it.
      while await work(job), !Task.isCancelled,
        let next = await claim(PendingJobIndex.DueTenant(tenantID: job.tenantID, jobIDs: []))
      {
        job = next
      }
      return true
    }
    return false
  }

  /// Indexes every unfinished job of every tenant that is missing from the index, so that a
  /// job committed by a process that died before indexing it is not stranded.
  func sweep() async {
    let tenants: [String]
    do {
      tenants = try await databases.clusters.registry.withConnection { connection in
        try connection.query(
          "SELECT id FROM kp_registry.tenants WHERE state IN ('active', 'suspended') ORDER BY id"
        ).compactMap { $0["id"] ?? nil }
      }
    } catch {
      logger.warning("cannot list tenants for the sweep", ["error": "\(error)"])
      return
    }
    var found = 0
    for tenantID in tenants where !Task.isCancelled {
      do {
        let jobs = try await databases.withTenant(tenantID) { transaction in
          try transaction.query(
            "SELECT id FROM ingest_jobs WHERE state IN ('queued', 'running')"
          ).compactMap { $0["id"] ?? nil }
        }
        try await index.add(tenantID: tenantID, jobIDs: jobs)
        found += jobs.count
      } catch {
        // A tenant whose schema predates the queue tables has no jobs.
        logger.debug("sweep skipped a tenant", ["tenant": tenantID, "error": "\(error)"])
      }
    }
    if found > 0 { wakeups.wake() }
    logger.info(
      "swept tenants for unfinished jobs", ["tenants": "\(tenants.count)", "jobs": "\(found)"])
  }

  /// Works on a claimed job until it is finished, fails an attempt, or loses its lease;
  /// returns whether it finished.
  private func work(_ job: ClaimedJob) async -> Bool {
    logger.debug(
      "job claimed", ["tenant": job.tenantID, "job": job.id, "attempt": "\(job.attempt)"])
    do {
      try await process(job)
      return true
    } catch {
      switch error.kind {
      case .leaseLost:
        logger.warning(
          "job lease lost; another worker has it", ["tenant": job.tenantID, "job": job.id])
      case .cancelled:
        await release(job)
      case .retry:
        await failAttempt(job, error.message)
      }
      return false
    }
  }
}
