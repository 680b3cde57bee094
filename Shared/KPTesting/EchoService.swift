import KPProtocol
public import KPRPC
import Synchronization

/// `kp.testing.v1.Echo`, for tests of the RPC runtime: echoes payloads, sleeps on request,
/// fails on request, and records what it saw.
public struct EchoService: RPCService {
  /// Who may call; default any caller with a platform certificate.
  public var callers: CallerPolicy
  /// Counts handler starts and cancellations, for assertions.
  public let probe: EchoProbe

  /// Makes the service.
  public init(callers: CallerPolicy = .anyAuthenticated, probe: EchoProbe = EchoProbe()) {
    self.callers = callers
    self.probe = probe
  }

  public func register(into table: inout MethodTable) {
    let probe = probe
    table.unary(Kp_Testing_V1_Echo.echo, callers: callers) { request, context in
      try await Self.prepare(request, context, probe)
      var response = Kp_Testing_V1_EchoResponse()
      response.payload = request.payload
      for entry in context.metadata.entries {
        if case .text(let text) = entry.value { response.metadata[entry.key] = text }
      }
      return response
    }
    table.serverStreaming(Kp_Testing_V1_Echo.serverStream, callers: callers) {
      request, writer, context in
      try await Self.prepare(request, context, probe)
      for index in 0..<request.count {
        var response = Kp_Testing_V1_EchoResponse()
        response.payload = request.payload
        response.index = index
        try await writer.send(response)
        probe.sent()
      }
    }
    table.clientStreaming(Kp_Testing_V1_Echo.clientStream, callers: callers) {
      requests, context in
      var response = Kp_Testing_V1_EchoResponse()
      var count: UInt32 = 0
      for try await request in requests {
        try await Self.prepare(request, context, probe)
        response.payload += request.payload
        count += 1
      }
      response.index = count
      return response
    }
    table.bidirectional(Kp_Testing_V1_Echo.bidiStream, callers: callers) {
      requests, writer, context in
      var index: UInt32 = 0
      for try await request in requests {
        try await Self.prepare(request, context, probe)
        for _ in 0..<max(1, request.count) {
          var response = Kp_Testing_V1_EchoResponse()
          response.payload = request.payload
          response.index = index
          index += 1
          try await writer.send(response)
        }
      }
    }
  }

  private static func prepare(
    _ request: Kp_Testing_V1_EchoRequest, _ context: ServerContext, _ probe: EchoProbe
  ) async throws {
    probe.started()
    if request.sleepMs > 0 {
      do {
        try await Task.sleep(for: .milliseconds(Int(request.sleepMs)))
      } catch {
        probe.cancelled()
        throw error
      }
    }
    if request.failCode.rawValue != 0 {
      throw RPCError(RPCError.Code(request.failCode), request.failMessage)
    }
  }
}

/// Counters an `EchoService` updates, readable from tests.
public final class EchoProbe: Sendable {
  private let counts = Mutex<(started: Int, cancelled: Int, sent: Int)>((0, 0, 0))

  /// A fresh probe.
  public init() {}

  /// Handlers started.
  public var startedCount: Int { counts.withLock { $0.started } }
  /// Handlers that saw their sleep cancelled.
  public var cancelledCount: Int { counts.withLock { $0.cancelled } }

  /// Server-stream responses whose send completed.
  public var sentCount: Int { counts.withLock { $0.sent } }

  func sent() { counts.withLock { $0.sent += 1 } }
  func started() { counts.withLock { $0.started += 1 } }
  func cancelled() { counts.withLock { $0.cancelled += 1 } }
}
