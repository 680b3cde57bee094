#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Renders one event as one line in the text or JSON format.
enum LogLineRenderer {
  /// Keys the JSON format uses for the event itself; fields with these keys get a `field.` prefix.
  static let reservedKeys: Set<String> = ["time", "level", "logger", "message"]

  static func render(
    time: LogTime,
    level: LogLevel,
    label: String,
    message: String,
    fields: [String: String],
    format: LogFormat
  ) -> String {
    let timestamp = timestamp(time)
    let sortedFields = fields.sorted { $0.key < $1.key }.map { field in
      (
        key: field.key,
        value: LogRedaction.isSensitive(key: field.key) ? LogRedaction.placeholder : field.value
      )
    }
    switch format {
    case .text:
      var line = "\(timestamp) \(level) \(textValue(label)): \(escapeControls(message))"
      for field in sortedFields {
        line += " \(textKey(field.key))=\(textValue(field.value))"
      }
      return line
    case .json:
      var line = "{\"time\":\(jsonString(timestamp)),\"level\":\(jsonString(level.description))"
      line += ",\"logger\":\(jsonString(label)),\"message\":\(jsonString(message))"
      for field in sortedFields {
        let key = reservedKeys.contains(field.key) ? "field.\(field.key)" : field.key
        line += ",\(jsonString(key)):\(jsonString(field.value))"
      }
      return line + "}"
    }
  }

  /// An RFC 3339 UTC time with milliseconds, such as `2025-01-02T03:04:05.678Z`.
  static func timestamp(_ time: LogTime) -> String {
    var seconds = time_t(time.seconds)
    let milliseconds = Int(time.nanoseconds / 1_000_000)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-"
      + "\(pad(Int(parts.tm_mday), 2))T\(pad(Int(parts.tm_hour), 2)):"
      + "\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2)).\(pad(milliseconds, 3))Z"
  }

  private static func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
  }

  /// A JSON string literal with quotes, backslashes and control characters escaped.
  static func jsonString(_ value: String) -> String {
    var result = "\""
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      case _ where scalar.value < 0x20 || scalar.value == 0x7F:
        result += "\\u" + pad(hex: scalar.value)
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result + "\""
  }

  private static func pad(hex value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
  }

  /// A text-format value: bare when it is a simple word, otherwise quoted and escaped.
  static func textValue(_ value: String) -> String {
    let needsQuotes =
      value.isEmpty
      || value.unicodeScalars.contains { scalar in
        scalar == " " || scalar == "=" || scalar == "\"" || scalar == "\\"
          || scalar.value < 0x20 || scalar.value == 0x7F
      }
    return needsQuotes ? jsonString(value) : value
  }

  /// A text-format key: characters that would break `key=value` parsing become `_`.
  static func textKey(_ key: String) -> String {
    guard !key.isEmpty else { return "_" }
    return String(
      String.UnicodeScalarView(
        key.unicodeScalars.map { scalar in
          scalar == " " || scalar == "=" || scalar == "\"" || scalar.value < 0x20 ? "_" : scalar
        }))
  }

  /// A message with line breaks and other control characters escaped, so an event stays one line.
  static func escapeControls(_ message: String) -> String {
    guard message.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
      return message
    }
    let quoted = jsonString(message)
    return String(quoted.dropFirst().dropLast())
  }
}
