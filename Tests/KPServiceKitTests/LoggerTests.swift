import Foundation
import KPLogging
import Testing

/// Collects the lines a logger writes.
private final class LineCollector: @unchecked Sendable {
  // `stored` is only touched with `lock` held.
  private let lock = NSLock()
  private var stored: [String] = []

  var lines: [String] { lock.withLock { stored } }

  lazy var writer = LogWriter { [unowned self] line in
    self.lock.withLock { self.stored.append(line) }
  }
}

@Suite("Logger")
struct LoggerTests {
  @Test("text lines hold the level, label, message and sorted fields")
  func textFormat() throws {
    let collector = LineCollector()
    let logger = Logger(label: "kp-test", writer: collector.writer).with(["tenant": "t1"])
    logger.info("listening", ["address": "127.0.0.1:7443", "note": "two words"])

    let line = try #require(collector.lines.first)
    let timestamp = #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z /#
    #expect(line.contains(timestamp))
    #expect(
      line.hasSuffix(
        " info kp-test: listening address=127.0.0.1:7443 note=\"two words\" tenant=t1"))
  }

  @Test("JSON lines are one object with escaped values")
  func jsonFormat() throws {
    let collector = LineCollector()
    let logger = Logger(label: "kp-test", format: .json, writer: collector.writer)
    logger.warning("odd \"input\"", ["path": "a\nb", "message": "clash"])

    let line = try #require(collector.lines.first)
    #expect(!line.contains("\n"))
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
    #expect(object["level"] == "warning")
    #expect(object["logger"] == "kp-test")
    #expect(object["message"] == "odd \"input\"")
    #expect(object["path"] == "a\nb")
    #expect(object["field.message"] == "clash")
  }

  @Test(
    "secret-bearing fields are always redacted",
    arguments: [
      "password", "db_password", "refresh_token", "Authorization", "client_secret", "X-API-KEY",
      "sessionCookie", "PRIVATE_KEY_PEM", "Credential",
    ])
  func redaction(key: String) throws {
    let collector = LineCollector()
    Logger(label: "kp-test", writer: collector.writer).info("login", [key: "hunter2"])
    Logger(label: "kp-test", format: .json, writer: collector.writer).info(
      "login", [key: "hunter2"])
    #expect(collector.lines.count == 2)
    for line in collector.lines {
      #expect(!line.contains("hunter2"))
      #expect(line.contains(LogRedaction.placeholder))
    }
    #expect(LogRedaction.redacted("hunter2") == "[redacted]")
  }

  @Test("ordinary keys are not redacted", arguments: ["tenant", "route", "status", "tok", "pass"])
  func noRedaction(key: String) {
    #expect(!LogRedaction.isSensitive(key: key))
  }

  @Test("events below the minimum level and from a disabled logger are not written")
  func levels() {
    let collector = LineCollector()
    let logger = Logger(label: "kp-test", level: .warning, writer: collector.writer)
    logger.debug("hidden")
    logger.info("hidden")
    logger.error("shown")
    #expect(collector.lines.count == 1)
    #expect(!Logger.disabled.isEnabled(.critical))
    Logger.disabled.critical("nowhere")
  }

  @Test("level and format come from KP_LOG_LEVEL and KP_LOG_FORMAT")
  func environment() {
    let collector = LineCollector()
    let logger = Logger.fromEnvironment(
      label: "kp-test", environment: ["KP_LOG_LEVEL": "DEBUG", "KP_LOG_FORMAT": "json"],
      writer: collector.writer)
    #expect(logger.level == .debug)
    #expect(logger.format == .json)
    #expect(collector.lines.isEmpty)

    let fallback = Logger.fromEnvironment(
      label: "kp-test", environment: ["KP_LOG_LEVEL": "loud"], writer: collector.writer)
    #expect(fallback.level == .info)
    #expect(collector.lines.count == 1)
    #expect(collector.lines.first?.contains("KP_LOG_LEVEL=loud") == true)
  }

  @Test("level names parse without case, and warn means warning")
  func levelNames() {
    #expect(LogLevel(name: " Critical ") == .critical)
    #expect(LogLevel(name: "warn") == .warning)
    #expect(LogLevel(name: "verbose") == nil)
    #expect(LogLevel.allCases.sorted() == LogLevel.allCases)
  }

  @Test("lines from many tasks never interleave")
  func concurrentWriters() async {
    let collector = LineCollector()
    let logger = Logger(label: "kp-test", writer: collector.writer)
    await withTaskGroup(of: Void.self) { group in
      for task in 0..<8 {
        group.addTask {
          for event in 0..<50 {
            logger.info("event", ["task": "\(task)", "event": "\(event)"])
          }
        }
      }
    }
    #expect(collector.lines.count == 400)
    #expect(collector.lines.allSatisfy { $0.contains(" info kp-test: event event=") })
  }
}
