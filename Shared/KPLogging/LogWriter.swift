import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The destination of log lines: writes each whole line at once, under a lock, with no buffering.
///
/// Every ``Logger`` that shares a writer shares its lock, so lines from different threads never
/// interleave. Lines go straight to the file descriptor with `write(2)`, so nothing sits in a
/// buffer when the process ends or crashes.
public final class LogWriter: Sendable {
  private enum Destination: Sendable {
    case fileDescriptor(Int32)
    case handler(@Sendable (String) -> Void)
  }

  private let destination: Destination
  private let lock = Mutex(())

  /// Writes to standard error, the default for every service.
  public static let standardError = LogWriter(fileDescriptor: 2)

  /// Writes to standard output.
  public static let standardOutput = LogWriter(fileDescriptor: 1)

  /// Creates a writer for an open file descriptor, which the caller keeps open.
  ///
  /// - Parameter fileDescriptor: The descriptor lines are written to.
  public init(fileDescriptor: Int32) {
    destination = .fileDescriptor(fileDescriptor)
  }

  /// Creates a writer that hands each line, without its line break, to a closure, one at a time.
  /// Tests use it to capture what a component logs.
  ///
  /// - Parameter handler: Receives each rendered line.
  public init(handler: @escaping @Sendable (String) -> Void) {
    destination = .handler(handler)
  }

  /// Writes one line and its line break.
  ///
  /// - Parameter line: A rendered log line without a line break.
  public func write(line: String) {
    lock.withLock { _ in emit(line) }
  }

  private func emit(_ line: String) {
    switch destination {
    case .handler(let handler):
      handler(line)
    case .fileDescriptor(let descriptor):
      var bytes = Array(line.utf8)
      bytes.append(UInt8(ascii: "\n"))
      Self.writeAll(bytes, to: descriptor)
    }
  }

  private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
    bytes.withUnsafeBytes { buffer in
      var offset = 0
      while offset < buffer.count {
        let written = Glibc.write(
          descriptor, buffer.baseAddress! + offset, buffer.count - offset)
        if written > 0 {
          offset += written
        } else if written < 0 && errno == EINTR {
          continue
        } else {
          // A log line that cannot be written is dropped: logging must never stop the caller.
          return
        }
      }
    }
  }
}
