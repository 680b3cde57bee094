import CSystem
import Foundation
import KPHTTP
public import KPLogging

#if canImport(Glibc)
  import Glibc
#endif

/// A small plain-HTTP endpoint for Prometheus scrapes and liveness probes.
///
/// `GET /metrics` answers the text from the metrics provider (Prometheus text format 0.0.4);
/// `GET /healthz` answers `ok`. Requests are parsed by http-parser; each connection serves one
/// request and closes. It runs on a thread of its own, so a stuck scrape never delays calls.
public final class MetricsEndpoint: @unchecked Sendable {
  /// The port it listens on.
  public let port: Int

  private let listener: Int32
  private let metrics: @Sendable () -> String
  private let logger: Logger
  private let stopped = NSLock()
  private var isStopped = false

  /// Listens on `host:port` (port 0 picks a free one) and starts serving.
  public init(
    host: String, port: Int, logger: Logger = .disabled,
    metrics: @escaping @Sendable () -> String
  ) throws(ConfigurationError) {
    self.metrics = metrics
    self.logger = logger

    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var one: Int32 = 1
    setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1
    else {
      close(descriptor)
      throw ConfigurationError(
        code: .invalidValue, message: "metrics address '\(host)' is not an IPv4 address")
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(descriptor, $0, length) == 0 && listen(descriptor, 64) == 0
          && getsockname(descriptor, $0, &length) == 0
      }
    }
    guard bound else {
      let reason = String(cString: strerror(kp_errno()))
      close(descriptor)
      throw ConfigurationError(
        code: .invalidValue, message: "cannot listen for metrics on \(host):\(port): \(reason)")
    }
    listener = descriptor
    self.port = Int(UInt16(bigEndian: address.sin_port))

    let thread = Thread { [self] in serve() }
    thread.name = "kp-metrics"
    thread.start()
  }

  /// Stops accepting scrapes.
  public func stop() {
    stopped.withLock { isStopped = true }
    shutdown(listener, Int32(SHUT_RDWR))
  }

  private func serve() {
    while true {
      let connection = accept(listener, nil, nil)
      if stopped.withLock({ isStopped }) {
        if connection >= 0 { close(connection) }
        close(listener)
        return
      }
      guard connection >= 0 else { continue }
      var timeout = timeval(tv_sec: 2, tv_usec: 0)
      setsockopt(
        connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
      respond(on: connection)
      close(connection)
    }
  }

  private func respond(on connection: Int32) {
    let request = HTTPRequestReader.read(from: connection)
    let (status, body): (String, String)
    switch request {
    case .success(let request) where request.method != "GET":
      (status, body) = ("405 Method Not Allowed", "only GET is served here\n")
    case .success(let request) where request.path == "/metrics":
      (status, body) = ("200 OK", metrics())
    case .success(let request) where request.path == "/healthz":
      (status, body) = ("200 OK", "ok\n")
    case .success:
      (status, body) = ("404 Not Found", "try /metrics or /healthz\n")
    case .failure(let reason):
      logger.debug("bad metrics request", ["reason": reason.message])
      (status, body) = ("400 Bad Request", "\(reason.message)\n")
    }

    let bytes = Array(body.utf8)
    let head =
      "HTTP/1.1 \(status)\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
      + "Content-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
    let response = Array(head.utf8) + bytes
    var offset = 0
    while offset < response.count {
      let written = response[offset...].withUnsafeBytes {
        send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
      }
      guard written > 0 else { return }
      offset += written
    }
  }
}

/// Reads one HTTP/1.1 request head with the HTTPS server's parser (http-parser underneath).
enum HTTPRequestReader {
  struct Request {
    var method: String
    var path: String
  }

  static func read(from connection: Int32) -> Result<Request, ConfigurationError> {
    var limits = HTTPServerLimits()
    limits.maximumHeaderSize = 8 * 1024
    limits.maximumBodySize = 0
    let parser = HTTPRequestParser(limits: limits)
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
      guard count > 0 else {
        return .failure(
          ConfigurationError(code: .invalidValue, message: "the request ended early"))
      }
      let outcome = buffer.withUnsafeBytes {
        parser.parse(UnsafeRawBufferPointer(rebasing: $0[0..<count])).outcome
      }
      switch outcome {
      case .needMore:
        continue
      case .head(let head):
        return .success(request(head.method.rawValue, head.target))
      case .message(let message):
        return .success(request(message.head.method.rawValue, message.head.target))
      case .failure(let error):
        return .failure(ConfigurationError(code: .invalidValue, message: error.message))
      }
    }
  }

  private static func request(_ method: String, _ target: String) -> Request {
    let path = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? target
    return Request(method: method, path: path)
  }
}
