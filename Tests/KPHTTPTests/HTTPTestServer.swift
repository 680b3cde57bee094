import Foundation
import KPHTTP
import KPRPC
import KPTLS
import KPTesting
import Synchronization

/// A certificate authority, a server certificate for 127.0.0.1 and both TLS contexts, made
/// once for every test.
final class HTTPTestCertificates: Sendable {
  let authority: TestCertificateAuthority
  let serverContext: TLSContext
  let clientContext: TLSContext

  static let shared: HTTPTestCertificates = {
    do {
      return try HTTPTestCertificates()
    } catch {
      fatalError("cannot make test certificates: \(error)")
    }
  }()

  private init() throws {
    TLSRuntime.ignoreSIGPIPE()
    authority = try TestCertificateAuthority.make(name: "kphttp")
    let issued = try authority.issue(identity: "spiffe://knowledgeplane/svc/gateway")
    var server = TLSConfiguration.externalServer(
      certificateChain: issued.certificateChainPath, privateKey: issued.privateKeyPath)
    server.alpnProtocols = ["http/1.1"]
    serverContext = try TLSContext(configuration: server)
    var client = TLSConfiguration.externalClient(trustRoots: authority.certificatePath)
    client.alpnProtocols = ["http/1.1"]
    clientContext = try TLSContext(configuration: client)
  }
}

/// Starts a server on a free loopback port, runs `body`, and shuts the server down.
func withHTTPServer<Result>(
  limits: HTTPServerLimits = HTTPServerLimits(),
  handler: @escaping HTTPServer.Handler = testRoutes,
  _ body: (HTTPServer) async throws -> Result
) async throws -> Result {
  var configuration = HTTPServerConfiguration()
  configuration.limits = limits
  let server = HTTPServer(
    configuration: configuration, tls: HTTPTestCertificates.shared.serverContext,
    handler: handler)
  try server.start()
  do {
    let result = try await body(server)
    await server.shutdown(grace: .seconds(1))
    return result
  } catch {
    await server.shutdown(grace: .zero)
    throw error
  }
}

/// Connects a blocking TLS client to the server.
func connectClient(_ server: HTTPServer, timeout: Duration = .seconds(5)) throws
  -> TestHTTPSClient
{
  try TestHTTPSClient(
    port: server.port, tls: HTTPTestCertificates.shared.clientContext, timeout: timeout)
}

/// What `/echo` answers.
struct EchoReply: Codable, Equatable {
  var method: String
  var path: String
  var segments: [String]
  var query: [String: String]
  var bodyBytes: Int
  var requestID: String
  var test: String?
  var remoteHost: String?
}

/// What `/json` accepts and answers.
struct Greeting: Codable, Equatable {
  var name: String
  var count: Int
}

/// The routes most tests use:
/// - `/echo`: describes the request as JSON;
/// - `/json`: decodes a ``Greeting`` and answers it with the count doubled, or the error;
/// - `/sleep/<ms>`: answers `slept <ms>` after that long;
/// - anything else: 404 in the error shape.
@Sendable func testRoutes(_ request: HTTPRequest) async -> HTTPResponse {
  let segments = request.pathSegments
  switch segments.first {
  case "echo":
    let reply = EchoReply(
      method: request.method.rawValue, path: request.path, segments: segments,
      query: Dictionary(
        request.queryItems.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first }),
      bodyBytes: request.body.count, requestID: request.requestID,
      test: request.headers["x-test"], remoteHost: request.remoteAddress?.host)
    return (try? HTTPResponse.json(reply)) ?? HTTPResponse(status: .internalServerError)
  case "json":
    do {
      var greeting = try request.decodeJSON(Greeting.self)
      greeting.count *= 2
      return try HTTPResponse.json(greeting, status: .created)
    } catch {
      return HTTPResponse(error: error)
    }
  case "sleep":
    let milliseconds = segments.count > 1 ? Int(segments[1]) ?? 0 : 0
    try? await Task.sleep(for: .milliseconds(milliseconds))
    return HTTPResponse(text: "slept \(milliseconds)")
  default:
    return HTTPResponse(error: .notFound("no route for \(request.path)"))
  }
}

/// Runs curl against the server; returns its exit status and standard output.
func curl(_ arguments: [String]) throws -> (status: Int32, output: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
  process.arguments =
    [
      "--silent", "--show-error", "--max-time", "10", "--cacert",
      HTTPTestCertificates.shared.authority.certificatePath,
    ] + arguments
  let output = Pipe()
  process.standardOutput = output
  try process.run()
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Runs blocking client work on a thread of its own, so the test's other tasks keep running
/// on the few threads of the cooperative pool.
func onThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws
  -> Value
{
  try await withCheckedThrowingContinuation { continuation in
    Thread { continuation.resume(with: Result { try body() }) }.start()
  }
}
