import Foundation

/// A progress bar on standard error for long work: done of total, bytes, rates and the time
/// left. On a terminal it redraws one line; otherwise it prints a line every few seconds, so
/// logs of a run show progress too.
final class ProgressLine {
  private let label: String
  private let total: Int
  private let interactive = isatty(STDERR_FILENO) != 0
  private let started = Date()
  private var lastDrawn = Date.distantPast
  private var drawnLength = 0
  private var lastText = ""
  /// The first count seen and when: rates count from there, so work done before the bar
  /// started (such as documents stored before it was first asked) does not inflate them.
  private var baseline: (done: Int, bytes: Int, at: Date)?

  /// Starts a bar for `total` items.
  init(_ label: String, total: Int) {
    self.label = label
    self.total = total
  }

  /// Shows `done` items and `bytes` sent so far; draws at most ten times a second (every
  /// five seconds when not on a terminal) unless `force`.
  func update(done: Int, bytes: Int, force: Bool = false) {
    let now = Date()
    let interval: TimeInterval = interactive ? 0.1 : 5
    guard force || now.timeIntervalSince(lastDrawn) >= interval else { return }
    lastDrawn = now

    let base = baseline ?? (done, bytes, now)
    if baseline == nil { baseline = base }
    let measured = now.timeIntervalSince(base.at)
    let fraction = total == 0 ? 1 : Double(done) / Double(total)
    let width = 24
    let filled = min(width, Int(fraction * Double(width)))
    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
    var text = "\(label) [\(bar)] \(done)/\(total) " + String(format: "%3.0f%%", fraction * 100)
    if measured >= 0.5 {
      let rate = Double(done - base.done) / measured
      text += String(format: "  %.0f/s", rate)
      if bytes > base.bytes {
        let byteRate = Int(Double(bytes - base.bytes) / measured)
        text += "  \(Output.bytes(bytes)) at \(Output.bytes(byteRate))/s"
      }
      if done < total && rate > 0 {
        text += "  about \(Output.duration(Double(total - done) / rate)) left"
      }
    }
    if done >= total { text += "  \(Output.duration(now.timeIntervalSince(started)))" }
    guard text != lastText else { return }
    lastText = text
    if interactive {
      let padding = String(repeating: " ", count: max(0, drawnLength - text.count))
      FileHandle.standardError.write(Data(("\r" + text + padding).utf8))
      drawnLength = text.count
    } else {
      FileHandle.standardError.write(Data((text + "\n").utf8))
    }
  }

  /// Ends the bar's line on a terminal.
  func finish(done: Int, bytes: Int) {
    update(done: done, bytes: bytes, force: true)
    if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
  }
}
