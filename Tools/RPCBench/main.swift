// kp-bench-rpc: the Swift side of `bench/rpc`. Unary echo of a 100-byte payload over mutual TLS
// on loopback, with the certificates `scripts/make-dev-certs` writes.
//
//   kp-bench-rpc serve --port P --certs DIR [--loops N] [--busy-poll-us U]
//       Serves the echo method as `knowledge`; prints `ready <port>`, then answers each `rss`
//       line on stdin with `rss <kB> connections <n>`; stops when stdin closes or on SIGTERM.
//   kp-bench-rpc drive --port P --concurrency N --duration S --max-calls M --warmup S
//       --certs DIR [--connections K] [--loops L] [--pin 0|1] [--busy-poll-us U] [--dump FILE]
//       Calls as `load` from N tasks over K connections (one channel each, on loop j % L);
//       with `--pin 1` each task prefers its connection's loop as executor. Prints one JSON
//       line with calls_per_s, p50_us, p99_us and errors of the measured phase (after the
//       warm-up); `--dump` also writes each call's latency in microseconds, one a line.
//       `--busy-poll-us` (both commands, default 0) sets the event loops' busy polling.
//   kp-bench-rpc idle --port P --connections N --certs DIR
//       Opens N connections, each with one call, prints `ready <n>` and holds them until stdin
//       closes.

import KPProtoRuntime
import KPProtocol
import KPRPC
import KPTLS
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The echo method alone: the payload back, nothing else.
struct BenchEchoService: RPCService {
  func register(into table: inout MethodTable) {
    table.unary(Kp_Testing_V1_Echo.echo, callers: .anyAuthenticated) { request, _ in
      var response = Kp_Testing_V1_EchoResponse()
      response.payload = request.payload
      return response
    }
  }
}

/// A counter shared by tasks.
final class Counter: Sendable {
  private let value = Atomic<Int>(0)

  /// Adds one and returns the value before.
  func next() -> Int { value.add(1, ordering: .relaxed).oldValue }

  var current: Int { value.load(ordering: .relaxed) }
}

struct UsageError: Error, CustomStringConvertible {
  let description: String
}

/// `--name value` pairs after the subcommand.
struct Options {
  private var values: [String: String] = [:]

  init(_ arguments: ArraySlice<String>) throws {
    var iterator = arguments.makeIterator()
    while let name = iterator.next() {
      guard name.hasPrefix("--"), let value = iterator.next() else {
        throw UsageError(description: "expected --name value, got \(name)")
      }
      values[String(name.dropFirst(2))] = value
    }
  }

  func string(_ name: String, default fallback: String? = nil) throws -> String {
    guard let value = values[name] ?? fallback else {
      throw UsageError(description: "--\(name) is required")
    }
    return value
  }

  func int(_ name: String, default fallback: Int? = nil) throws -> Int {
    guard let text = values[name] else {
      guard let fallback else { throw UsageError(description: "--\(name) is required") }
      return fallback
    }
    guard let value = Int(text) else { throw UsageError(description: "--\(name): not a number") }
    return value
  }

  func seconds(_ name: String, default fallback: Double? = nil) throws -> Double {
    guard let text = values[name] else {
      guard let fallback else { throw UsageError(description: "--\(name) is required") }
      return fallback
    }
    guard let value = Double(text) else {
      throw UsageError(description: "--\(name): not a number")
    }
    return value
  }
}

/// Monotonic nanoseconds.
func nowNanos() -> UInt64 {
  var spec = timespec()
  clock_gettime(CLOCK_MONOTONIC, &spec)
  return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

func emit(_ line: String) {
  writeAll(1, line + "\n")
}

/// Writes all of `text` to a descriptor.
func writeAll(_ descriptor: Int32, _ text: String) {
  var bytes = Array(text.utf8)[...]
  while !bytes.isEmpty {
    let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    guard written > 0 else { return }
    bytes = bytes.dropFirst(written)
  }
}

/// The whole content of a file, or nil.
func readFile(_ path: String) -> String? {
  let descriptor = open(path, O_RDONLY)
  guard descriptor >= 0 else { return nil }
  defer { close(descriptor) }
  var content: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 4096)
  while true {
    let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
    guard count > 0 else { break }
    content += chunk[0..<count]
  }
  return String(decoding: content, as: UTF8.self)
}

/// The resident set size of this process, in kB, from /proc/self/status.
func residentKilobytes() -> Int {
  guard let status = readFile("/proc/self/status") else {
    return -1
  }
  for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
    let digits = line.split(separator: " ").compactMap { Int($0) }
    return digits.first ?? -1
  }
  return -1
}

func serverContext(certs: String) throws -> TLSContext {
  try TLSContext(
    configuration: .meshServer(
      certificateChain: "\(certs)/knowledge.pem", privateKey: "\(certs)/knowledge.key",
      trustRoots: "\(certs)/ca.pem"))
}

func clientContext(certs: String) throws -> TLSContext {
  try TLSContext(
    configuration: .meshClient(
      certificateChain: "\(certs)/load.pem", privateKey: "\(certs)/load.key",
      trustRoots: "\(certs)/ca.pem"))
}

func makeChannel(port: Int, tls: TLSContext, group: EventLoopGroup) -> RPCChannel {
  RPCChannel(
    target: RPCTarget(
      endpoints: [SocketAddress(host: "127.0.0.1", port: port)],
      expectedIdentity: "spiffe://knowledgeplane/svc/knowledge"),
    tls: tls, configuration: RPCClientConfiguration(), group: group)
}

func echoRequest() -> Kp_Testing_V1_EchoRequest {
  var request = Kp_Testing_V1_EchoRequest()
  request.payload = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
  return request
}

// MARK: serve

func serve(_ options: Options) async throws {
  let certs = try options.string("certs")
  var configuration = RPCServerConfiguration()
  configuration.address = SocketAddress(host: "127.0.0.1", port: try options.int("port"))
  let loops = try options.int("loops", default: System.coreCount)
  let group = EventLoopGroup(loopCount: loops, name: "kp-serve")
  group.busyPoll = .microseconds(try options.int("busy-poll-us", default: 0))
  let server = RPCServer(
    configuration: configuration, tls: try serverContext(certs: certs),
    services: [BenchEchoService()], group: group)
  try server.start()
  emit("ready \(server.port)")
  while let line = readLine() {
    if line.split(separator: " ") == ["rss"] {
      emit("rss \(residentKilobytes()) connections \(server.connectionCount)")
    }
  }
  await server.shutdown(grace: .milliseconds(200))
}

// MARK: drive

struct PhaseResult {
  var latencies: [UInt64] = []
  var errors = 0
  var seconds = 0.0
}

/// Runs `concurrency` callers until `seconds` pass or `maxCalls` calls have started.
func runPhase(
  channels: [RPCChannel], loops: [EventLoop], pin: Bool, concurrency: Int, seconds: Double,
  maxCalls: Int
) async -> PhaseResult {
  let request = echoRequest()
  let issued = Counter()
  let begin = nowNanos()
  let end = begin + UInt64(seconds * 1e9)
  var result = PhaseResult()
  await withTaskGroup(of: PhaseResult.self) { group in
    for worker in 0..<concurrency {
      let channel = channels[worker % channels.count]
      let loop: EventLoop? = pin ? loops[worker % channels.count % loops.count] : nil
      group.addTask(executorPreference: loop) {
        var mine = PhaseResult()
        mine.latencies.reserveCapacity(min(maxCalls / concurrency, 1 << 20) + 16)
        while issued.next() < maxCalls {
          let start = nowNanos()
          if start >= end { break }
          do {
            let response = try await channel.unary(Kp_Testing_V1_Echo.echo, request)
            if response.payload.count != request.payload.count { mine.errors += 1 }
          } catch {
            mine.errors += 1
          }
          mine.latencies.append(nowNanos() - start)
        }
        return mine
      }
    }
    for await part in group {
      result.latencies += part.latencies
      result.errors += part.errors
    }
  }
  result.seconds = Double(nowNanos() - begin) / 1e9
  return result
}

func percentile(_ sorted: [UInt64], _ fraction: Double) -> Double {
  guard !sorted.isEmpty else { return 0 }
  let index = min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)
  return Double(sorted[max(0, index)]) / 1000
}

func drive(_ options: Options) async throws {
  let certs = try options.string("certs")
  let port = try options.int("port")
  let concurrency = max(1, try options.int("concurrency"))
  let duration = try options.seconds("duration")
  let maxCalls = try options.int("max-calls", default: Int.max)
  let warmup = try options.seconds("warmup", default: 1)
  let connections = max(1, try options.int("connections", default: 1))
  let loopCount = max(1, try options.int("loops", default: min(connections, System.coreCount)))
  let pin = try options.int("pin", default: 1) != 0

  let tls = try clientContext(certs: certs)
  let group = EventLoopGroup(loopCount: loopCount, name: "kp-drive")
  group.busyPoll = .microseconds(try options.int("busy-poll-us", default: 0))
  // Connected one after another, channel j's connection lands on loop j % loopCount.
  var channels: [RPCChannel] = []
  for _ in 0..<connections {
    let channel = makeChannel(port: port, tls: tls, group: group)
    _ = try await channel.unary(Kp_Testing_V1_Echo.echo, echoRequest())
    channels.append(channel)
  }

  if warmup > 0 {
    _ = await runPhase(
      channels: channels, loops: group.loops, pin: pin, concurrency: concurrency,
      seconds: warmup, maxCalls: Int.max)
  }
  let result = await runPhase(
    channels: channels, loops: group.loops, pin: pin, concurrency: concurrency,
    seconds: duration, maxCalls: maxCalls)
  for channel in channels { channel.close() }
  if let path = try? options.string("dump") {
    let text = result.latencies.map { String($0 / 1000) }.joined(separator: "\n")
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard descriptor >= 0 else { throw UsageError(description: "cannot write \(path)") }
    writeAll(descriptor, text + "\n")
    close(descriptor)
  }

  let sorted = result.latencies.sorted()
  let rate = Double(sorted.count - result.errors) / max(result.seconds, 1e-9)
  let fields = [
    "\"concurrency\": \(concurrency)", "\"connections\": \(connections)",
    "\"calls\": \(sorted.count)", "\"seconds\": \(rounded(result.seconds, 3))",
    "\"calls_per_s\": \(rounded(rate, 1))", "\"p50_us\": \(rounded(percentile(sorted, 0.5), 1))",
    "\"p99_us\": \(rounded(percentile(sorted, 0.99), 1))", "\"errors\": \(result.errors)",
  ]
  emit("{" + fields.joined(separator: ", ") + "}")
}

func rounded(_ value: Double, _ places: Int) -> String {
  var scale = 1.0
  for _ in 0..<places { scale *= 10 }
  let units = Int64((value * scale).rounded())
  let whole = units / Int64(scale)
  let fraction = String(units % Int64(scale))
  let padding = String(repeating: "0", count: places - fraction.count)
  return places == 0 ? "\(whole)" : "\(whole).\(padding)\(fraction)"
}

// MARK: idle

func idle(_ options: Options) async throws {
  let certs = try options.string("certs")
  let port = try options.int("port")
  let count = try options.int("connections")
  let tls = try clientContext(certs: certs)
  let group = EventLoopGroup(loopCount: 1, name: "kp-idle")
  let channels = (0..<count).map { _ in makeChannel(port: port, tls: tls, group: group) }
  let failures = Counter()
  let parallel = 8
  for batch in stride(from: 0, to: count, by: parallel) {
    await withTaskGroup(of: Void.self) { tasks in
      for channel in channels[batch..<min(count, batch + parallel)] {
        tasks.addTask {
          do {
            _ = try await channel.unary(Kp_Testing_V1_Echo.echo, echoRequest())
          } catch {
            _ = failures.next()
          }
        }
      }
    }
  }
  emit(
    "ready \(count - failures.current) failed \(failures.current)"
  )
  while readLine() != nil {}
  for channel in channels { channel.close() }
}

// MARK: main

TLSRuntime.ignoreSIGPIPE()
let arguments = CommandLine.arguments
do {
  guard arguments.count >= 2 else {
    throw UsageError(description: "usage: kp-bench-rpc serve|drive|idle --name value ...")
  }
  let options = try Options(arguments.dropFirst(2))
  switch arguments[1] {
  case "serve": try await serve(options)
  case "drive": try await drive(options)
  case "idle": try await idle(options)
  default: throw UsageError(description: "unknown subcommand \(arguments[1])")
  }
} catch {
  writeAll(2, "kp-bench-rpc: \(error)\n")
  exit(1)
}
