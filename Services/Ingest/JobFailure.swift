/// Why work on a claimed job stopped before it finished.
struct JobFailure: Error, Sendable {
  /// What follows from the failure.
  enum Kind: Sendable {
    /// The attempt failed (the knowledge store or the database could not be reached, say): it
    /// is retried after a backoff, or parked once attempts run out.
    case retry
    /// Another worker took the job over after this one's lease expired: stop quietly.
    case leaseLost
    /// The process is shutting down: hand the job back without counting the attempt.
    case cancelled
  }

  /// What follows from the failure.
  var kind: Kind
  /// What went wrong, recorded as the job's last error; never document text.
  var message: String

  /// Makes a failure.
  init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }
}
