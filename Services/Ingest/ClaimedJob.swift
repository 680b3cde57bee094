/// A job leased to this process's worker.
struct ClaimedJob: Sendable, Equatable {
  /// The tenant the job belongs to.
  var tenantID: String
  /// The job's id.
  var id: String
  /// Which attempt this is, from 1.
  var attempt: Int
}
