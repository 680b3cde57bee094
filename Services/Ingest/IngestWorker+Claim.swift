import Foundation
import KPDatabase

extension IngestWorker {
  /// What a claim found in the tenant's queue.
  private enum ClaimResult: Sendable {
    /// The oldest unfinished job is ours until the lease expiry (microseconds since the epoch).
    case claimed(ClaimedJob, leaseUntilMicros: Int64)
    /// The oldest unfinished job is leased, locked or waiting for its backoff; due again then.
    case wait(untilMicros: Int64?)
    /// The oldest unfinished job ran out of attempts and was parked as failed.
    case parked(String)
    /// The tenant has no unfinished job.
    case idle
  }

  /// The SQL reading a `timestamptz` expression as microseconds since the Unix epoch.
  static func micros(_ expression: String) -> String {
    "COALESCE((extract(epoch FROM \(expression)) * 1000000)::bigint, 0)"
  }

  /// Claims the tenant's oldest unfinished job with `FOR UPDATE SKIP LOCKED` and a lease, and
  /// brings the index up to date for the tenant; nil when there is nothing to do there now.
  func claim(_ due: PendingJobIndex.DueTenant) async -> ClaimedJob? {
    let owner = owner
    let leaseMilliseconds =
      Int(options.lease.components.seconds * 1000)
      + Int(options.lease.components.attoseconds / 1_000_000_000_000_000)
    let maximumAttempts = options.maximumAttempts
    let known = due.jobIDs
    let outcome: (live: Set<String>, result: ClaimResult)
    do {
      outcome = try await inTenant(due.tenantID) { transaction in
        let live = Set(
          try transaction.query(
            "SELECT id FROM ingest_jobs WHERE id = ANY($1::text[]) "
              + "AND state IN ('queued', 'running')",
            [PendingJobIndex.array(known)]
          ).compactMap { $0["id"] ?? nil })
        guard
          let head = try transaction.query(
            "SELECT id FROM ingest_jobs WHERE state IN ('queued', 'running') ORDER BY seq LIMIT 1"
          ).first?["id"] ?? nil
        else { return (live, .idle) }
        guard
          let row = try transaction.query(
            "SELECT attempts, lease_expires_at > now() AS leased, next_attempt_at > now() AS "
              + "waiting, \(Self.micros("GREATEST(next_attempt_at, lease_expires_at)")) AS until "
              + "FROM ingest_jobs WHERE id = $1 FOR UPDATE SKIP LOCKED",
            [head]
          ).first
        else { return (live, .wait(untilMicros: nil)) }
        if row["leased"] == "t" || row["waiting"] == "t" {
          return (live, .wait(untilMicros: Int64(row["until"] ?? "")))
        }
        let attempts = Int(row["attempts"] ?? "") ?? 0
        if attempts >= maximumAttempts {
          try transaction.query(
            "UPDATE ingest_jobs SET state = 'failed', finished_at = now(), lease_owner = '', "
              + "lease_expires_at = NULL, last_error = CASE WHEN last_error = '' THEN $2 "
              + "ELSE last_error END WHERE id = $1",
            [
              head,
              "the job was taken up \(attempts) times and its worker stopped each time before "
                + "finishing",
            ])
          return (live, .parked(head))
        }
        let claimed = try transaction.query(
          "UPDATE ingest_jobs SET state = 'running', attempts = attempts + 1, lease_owner = $2, "
            + "lease_expires_at = now() + $3::bigint * interval '1 millisecond', "
            + "started_at = COALESCE(started_at, now()) WHERE id = $1 "
            + "RETURNING attempts, \(Self.micros("lease_expires_at")) AS until",
          [head, owner, "\(leaseMilliseconds)"])
        let job = ClaimedJob(
          tenantID: due.tenantID, id: head,
          attempt: Int(claimed.first?["attempts"] ?? "") ?? attempts + 1)
        return (live, .claimed(job, leaseUntilMicros: Int64(claimed.first?["until"] ?? "") ?? 0))
      }
    } catch {
      if error.kind == .leaseLost {
        // The tenant no longer exists: its pending work went with it.
        try? await index.remove(tenantID: due.tenantID, jobIDs: nil)
      } else {
        logger.warning("cannot claim a job", ["tenant": due.tenantID, "error": error.message])
      }
      return nil
    }

    do {
      let stale = known.filter { !outcome.live.contains($0) }
      if !stale.isEmpty { try await index.remove(tenantID: due.tenantID, jobIDs: stale) }
      switch outcome.result {
      case .claimed(let job, let until):
        try await index.reschedule(tenantID: due.tenantID, atMicros: until)
        return job
      case .wait(let until):
        // Only the rows read as due: a job submitted since keeps its own time.
        try await index.reschedule(
          tenantID: due.tenantID, jobIDs: known,
          atMicros: until ?? Int64(Date().timeIntervalSince1970 * 1_000_000) + 1_000_000)
      case .parked(let id):
        logger.error("job parked as failed", ["tenant": due.tenantID, "job": id])
        try await index.remove(tenantID: due.tenantID, jobIDs: [id])
        try await index.reschedule(tenantID: due.tenantID)
      case .idle:
        break
      }
    } catch {
      logger.warning("cannot update the pending-job index", ["error": "\(error)"])
    }
    return nil
  }

  /// Records a failed attempt: the job waits for its backoff, or is parked as failed when its
  /// attempts ran out.
  func failAttempt(_ job: ClaimedJob, _ message: String) async {
    let owner = owner
    let maximumAttempts = options.maximumAttempts
    let backoff = RetryBackoff(initial: options.initialBackoff, maximum: options.maximumBackoff)
    let delay = backoff.delay(afterAttempt: job.attempt)
    let delayMilliseconds =
      Int(delay.components.seconds * 1000)
      + Int(delay.components.attoseconds / 1_000_000_000_000_000)
    do {
      let next: Int64? = try await inTenant(job.tenantID) { transaction in
        guard
          let row = try transaction.query(
            "SELECT attempts FROM ingest_jobs WHERE id = $1 AND lease_owner = $2 "
              + "AND state = 'running' FOR UPDATE",
            [job.id, owner]
          ).first
        else { return nil }
        if Int(row["attempts"] ?? "") ?? 0 >= maximumAttempts {
          try transaction.query(
            "UPDATE ingest_jobs SET state = 'failed', finished_at = now(), lease_owner = '', "
              + "lease_expires_at = NULL, last_error = $2 WHERE id = $1",
            [job.id, message])
          return -1
        }
        let updated = try transaction.query(
          "UPDATE ingest_jobs SET state = 'queued', lease_owner = '', lease_expires_at = NULL, "
            + "last_error = $2, next_attempt_at = now() + $3::bigint * interval '1 millisecond' "
            + "WHERE id = $1 RETURNING \(Self.micros("next_attempt_at")) AS next",
          [job.id, message, "\(delayMilliseconds)"])
        return Int64(updated.first?["next"] ?? "") ?? 0
      }
      guard let next else { return }
      if next < 0 {
        logger.error(
          "job parked as failed",
          ["tenant": job.tenantID, "job": job.id, "attempts": "\(job.attempt)", "error": message])
        try await index.remove(tenantID: job.tenantID, jobIDs: [job.id])
        try await index.reschedule(tenantID: job.tenantID)
      } else {
        logger.warning(
          "job attempt failed; retrying later",
          [
            "tenant": job.tenantID, "job": job.id, "attempt": "\(job.attempt)",
            "retry_in": "\(delay)", "error": message,
          ])
        try await index.reschedule(tenantID: job.tenantID, atMicros: next)
      }
    } catch {
      // The lease expires by itself; the job is taken up again then.
      logger.warning("cannot record a failed attempt", ["job": job.id, "error": "\(error)"])
    }
  }

  /// Hands a job back at shutdown, without counting the attempt, so another worker can take it
  /// at once.
  func release(_ job: ClaimedJob) async {
    let owner = owner
    do {
      try await inTenant(job.tenantID) { transaction in
        try transaction.query(
          "UPDATE ingest_jobs SET state = 'queued', lease_owner = '', lease_expires_at = NULL, "
            + "attempts = GREATEST(attempts - 1, 0) WHERE id = $1 AND lease_owner = $2",
          [job.id, owner])
      }
      try await index.reschedule(tenantID: job.tenantID)
    } catch {
      logger.warning("cannot hand a job back", ["job": job.id, "error": "\(error)"])
    }
  }

  /// Runs `body` in a transaction scoped to the tenant; a tenant that is gone is reported as
  /// `leaseLost`, anything else as `retry`.
  @discardableResult
  func inTenant<Result: Sendable>(
    _ tenantID: String,
    _ body: @escaping @Sendable (DatabaseTransaction) throws -> Result
  ) async throws(JobFailure) -> Result {
    do {
      return try await databases.withTenant(tenantID, body)
    } catch let error as JobFailure {
      throw error
    } catch let error as DatabaseError {
      if error.code == .tenantNotFound || error.code == .invalidIdentifier {
        throw JobFailure(.leaseLost, "the tenant no longer exists")
      }
      throw JobFailure(.retry, "the database failed: \(error.message)")
    } catch {
      throw JobFailure(.retry, "the database failed: \(error)")
    }
  }
}
