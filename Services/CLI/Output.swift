import Foundation

/// How `kp` prints: tables for people, JSON for scripts, progress and errors on standard
/// error.
enum Output {
  /// Prints rows under headers, each column as wide as its widest cell (at most `maximum`
  /// characters; longer cells are cut with an ellipsis, except in the last column, which is
  /// printed in full).
  static func table(_ headers: [String], _ rows: [[String]], maximum: Int = 60) {
    guard !rows.isEmpty else {
      print("(none)")
      return
    }
    var widths = headers.map(\.count)
    for row in rows {
      for (index, cell) in row.enumerated() where index < widths.count {
        widths[index] = min(maximum, max(widths[index], cell.count))
      }
    }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { index, cell in
        let width = widths[index]
        if index == cells.count - 1 { return cell }
        let shown = cell.count > width ? String(cell.prefix(width - 1)) + "…" : cell
        return shown.padding(toLength: width, withPad: " ", startingAt: 0)
      }.joined(separator: "  ")
    }
    print(line(headers))
    print(line(widths.map { String(repeating: "-", count: $0) }))
    for row in rows { print(line(row)) }
  }

  /// Prints `name: value` lines, names aligned.
  static func fields(_ pairs: [(String, String)]) {
    let width = pairs.map(\.0.count).max() ?? 0
    for (name, value) in pairs {
      print("\(name):".padding(toLength: width + 1, withPad: " ", startingAt: 0) + " \(value)")
    }
  }

  /// Text from a document made safe to print: each control character (which could move the
  /// cursor or recolour the terminal) becomes a space, except line breaks and tabs when kept.
  static func terminalSafe(_ text: String, keepingLineBreaks: Bool) -> String {
    String(
      String.UnicodeScalarView(
        text.unicodeScalars.map { scalar in
          let kept = keepingLineBreaks && (scalar == "\n" || scalar == "\t")
          return kept || scalar.properties.generalCategory != .control ? scalar : " "
        }))
  }

  /// Prints a JSON answer re-indented with sorted keys.
  static func json(_ data: Data) {
    if let object = try? JSONSerialization.jsonObject(with: data),
      let pretty = try? JSONSerialization.data(
        withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    {
      print(String(decoding: pretty, as: UTF8.self))
    } else {
      print(String(decoding: data, as: UTF8.self))
    }
  }

  /// Writes a line to standard error.
  static func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }

  /// A byte count for people: `512 B`, `1.5 MB`.
  static func bytes(_ count: Int) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var value = Double(count)
    var unit = 0
    while value >= 1000 && unit < units.count - 1 {
      value /= 1000
      unit += 1
    }
    return unit == 0 ? "\(count) B" : String(format: "%.1f ", value) + units[unit]
  }

  /// A duration for people: `850 ms`, `12.3 s`, `4 min 05 s`.
  static func duration(_ seconds: Double) -> String {
    if seconds < 1 { return String(format: "%.0f ms", seconds * 1000) }
    if seconds < 60 { return String(format: "%.1f s", seconds) }
    let whole = Int(seconds.rounded())
    return String(format: "%d min %02d s", whole / 60, whole % 60)
  }
}
