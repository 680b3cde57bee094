/// How one call to the gateway ended.
struct CallOutcome: Sendable {
  /// The status name for a success.
  static let ok = "OK"

  /// The method called, such as `/kp.knowledge.v1.Knowledge/Search`.
  var call: String
  /// The status name: `OK` or an RPC status such as `UNAVAILABLE`.
  var code: String
  /// The status message of a failed call; empty on success.
  var message: String = ""
  /// The document ids of a search's hits; empty for other calls.
  var documentIDs: [String] = []

  /// Whether the call succeeded.
  var succeeded: Bool { code == Self.ok }
}
