import KPRPC

/// What follows one request into every RPC and log line: its id, its W3C `traceparent`, and
/// the client's address.
struct RequestTrace: Sendable {
  /// The metadata entry carrying the W3C trace context.
  static let traceparentKey = "traceparent"
  /// The metadata entry carrying the end client's address.
  static let clientAddressKey = "kp-client-address"
  /// The metadata entry carrying the caller's groups.
  static let groupsKey = "kp-groups"

  /// The request id: the client's `X-Request-Id` when safe, or a new one.
  var requestID: String
  /// The `traceparent` to pass on: the client's when well formed, or a new one.
  var traceparent: String
  /// The client's address, or empty.
  var clientAddress: String

  /// A trace for a request, keeping a well-formed incoming `traceparent`.
  init(requestID: String, traceparent incoming: String?, clientAddress: String) {
    self.requestID = requestID
    self.clientAddress = clientAddress
    if let incoming, Self.isWellFormed(incoming) {
      traceparent = incoming.lowercased()
    } else {
      let span = String(TraceID.make().prefix(16))
      traceparent = "00-\(TraceID.make())-\(span)-01"
    }
  }

  /// The trace id part of the `traceparent`.
  var traceID: String {
    let parts = traceparent.split(separator: "-")
    return parts.count == 4 ? String(parts[1]) : requestID
  }

  /// Call options carrying the trace and, when given, the verified caller.
  ///
  /// - Parameters:
  ///   - caller: The verified caller whose tenant, user and groups go into metadata.
  ///   - forwardCredential: Whether the caller's credential goes along as `authorization`
  ///     (for auth's management methods).
  ///   - timeout: The call's time limit.
  func options(
    caller: VerifiedCaller?, forwardCredential: Bool = false, timeout: Duration
  ) -> CallOptions {
    var options = CallOptions(timeout: timeout)
    options.metadata.add(MetadataKey.traceID, requestID)
    options.metadata.add(Self.traceparentKey, traceparent)
    if !clientAddress.isEmpty { options.metadata.add(Self.clientAddressKey, clientAddress) }
    guard let caller else { return options }
    if !caller.tenantID.isEmpty { options.metadata.add(MetadataKey.tenant, caller.tenantID) }
    if !caller.userID.isEmpty { options.metadata.add(MetadataKey.user, caller.userID) }
    if !caller.groups.isEmpty {
      options.metadata.add(Self.groupsKey, caller.groups.joined(separator: ","))
    }
    if forwardCredential {
      options.metadata.add(MetadataKey.authorization, "Bearer " + caller.credential)
    }
    return options
  }

  /// Whether text is a version-00 `traceparent`: `00-<32 hex>-<16 hex>-<2 hex>`, ids not zero.
  static func isWellFormed(_ text: String) -> Bool {
    let parts = text.lowercased().split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 4, parts[0] == "00", parts[1].count == 32, parts[2].count == 16,
      parts[3].count == 2
    else { return false }
    let hex = Set("0123456789abcdef")
    guard parts.dropFirst().allSatisfy({ $0.allSatisfy(hex.contains) }) else { return false }
    return parts[1].contains { $0 != "0" } && parts[2].contains { $0 != "0" }
  }
}
