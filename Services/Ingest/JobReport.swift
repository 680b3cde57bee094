import KPDatabase
import KPProtocol

/// A job as GetJob reports it, read from the tenant's queue tables.
struct JobReport: Sendable {
  /// The report as a message.
  var message: Kp_Ingest_V1_Job

  /// The states as stored, and as reported.
  static let states: [String: Kp_Ingest_V1_JobState] = [
    "queued": .queued, "running": .running, "succeeded": .succeeded,
    "partially_failed": .partiallyFailed, "failed": .failed,
  ]

  /// The code of the entry that says why a parked job failed; its external id is empty.
  static let jobFailedCode = "job_failed"

  /// Reads a job with its counts and its first `errorLimit` refused documents; nil when the
  /// tenant has no such job.
  static func load(
    _ id: String, errorLimit: Int, in transaction: DatabaseTransaction
  ) throws -> JobReport? {
    let jobs = try transaction.query(
      "SELECT id, state, total, last_error, "
        + "COALESCE((extract(epoch FROM submitted_at) * 1000000)::bigint, 0) AS submitted, "
        + "COALESCE((extract(epoch FROM finished_at) * 1000000)::bigint, 0) AS finished "
        + "FROM ingest_jobs WHERE id = $1",
      [id])
    guard let row = jobs.first else { return nil }
    var job = Kp_Ingest_V1_Job()
    job.id = row["id"] ?? ""
    job.state = states[row["state"] ?? ""] ?? .unspecified
    job.total = UInt32(row["total"] ?? "") ?? 0
    job.submittedAtMicros = Int64(row["submitted"] ?? "") ?? 0
    job.finishedAtMicros = Int64(row["finished"] ?? "") ?? 0

    let counts = try transaction.query(
      "SELECT outcome, count(*) AS n FROM ingest_items WHERE job_id = $1 GROUP BY outcome", [id])
    for count in counts {
      let number = UInt32(count["n"] ?? "") ?? 0
      switch count["outcome"] {
      case "stored": job.stored = number
      case "unchanged": job.unchanged = number
      case "failed": job.failed = number
      default: break
      }
      if count["outcome"] != "pending" { job.processed += number }
    }

    if job.state == .failed {
      var error = Kp_Ingest_V1_DocumentError()
      error.code = jobFailedCode
      error.message = row["last_error"] ?? ""
      job.errors.append(error)
    }
    let refused = try transaction.query(
      "SELECT external_id, error_code, error_message FROM ingest_items "
        + "WHERE job_id = $1 AND outcome = 'failed' ORDER BY ordinal LIMIT $2::integer",
      [id, "\(errorLimit)"])
    for item in refused {
      var error = Kp_Ingest_V1_DocumentError()
      error.externalId = item["external_id"] ?? ""
      error.code = item["error_code"] ?? ""
      error.message = item["error_message"] ?? ""
      job.errors.append(error)
    }
    return JobReport(message: job)
  }
}
