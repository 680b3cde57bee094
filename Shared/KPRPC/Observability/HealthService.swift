public import KPProtocol
import Synchronization

/// The serving status of a server and of each service it offers.
public final class HealthStatus: Sendable {
  /// A status as the health protocol names it.
  public typealias Serving = Kp_Health_V1_HealthCheckResponse.ServingStatus

  private struct State {
    var statuses: [String: Serving] = ["": .serving]
    var watchers: [Int: (service: String, continuation: AsyncStream<Serving>.Continuation)] = [:]
    var nextWatcher = 0
  }

  private let state = Mutex(State())

  init() {}

  /// Sets the status of a service (the empty name is the whole server).
  public func set(_ service: String, _ status: Serving) {
    let watchers = state.withLock { state in
      state.statuses[service] = status
      return state.watchers.values.filter { $0.service == service }.map(\.continuation)
    }
    for watcher in watchers { watcher.yield(status) }
  }

  /// Sets every known service, and the server, to one status.
  public func setAll(_ status: Serving) {
    let services = state.withLock { Array($0.statuses.keys) }
    for service in services { set(service, status) }
  }

  /// Ends every Watch stream: its callers see the last status, then the end of the call.
  /// A draining server does this so that open watches do not hold the drain for its whole
  /// grace period.
  public func endWatches() {
    let watchers = state.withLock { state in
      defer { state.watchers.removeAll() }
      return state.watchers.values.map(\.continuation)
    }
    for watcher in watchers { watcher.finish() }
  }

  /// The status of a service, or nil when the server does not know it.
  public func status(of service: String) -> Serving? {
    state.withLock { $0.statuses[service] }
  }

  /// The status now and after each change, until the stream is dropped.
  func watch(_ service: String) -> AsyncStream<Serving> {
    AsyncStream(bufferingPolicy: .bufferingNewest(4)) { continuation in
      let id = state.withLock { state -> Int in
        state.nextWatcher += 1
        state.watchers[state.nextWatcher] = (service, continuation)
        return state.nextWatcher
      }
      continuation.yield(status(of: service) ?? .serviceUnknown)
      continuation.onTermination = { [weak self] _ in
        _ = self?.state.withLock { $0.watchers[id] = nil }
      }
    }
  }
}

/// `kp.health.v1.Health`: answers Check and Watch from a `HealthStatus`.
struct HealthService: RPCService {
  let status: HealthStatus

  func register(into table: inout MethodTable) {
    let status = status
    table.unary(Kp_Health_V1_Health.check, callers: .anyone) { request, _ in
      guard let current = status.status(of: request.service) else {
        throw RPCError(.notFound, "no service named '\(request.service)' on this server")
      }
      var response = Kp_Health_V1_HealthCheckResponse()
      response.status = current
      return response
    }
    table.serverStreaming(Kp_Health_V1_Health.watch, callers: .anyone) { request, writer, _ in
      for await current in status.watch(request.service) {
        var response = Kp_Health_V1_HealthCheckResponse()
        response.status = current
        try await writer.send(response)
      }
    }
  }
}
