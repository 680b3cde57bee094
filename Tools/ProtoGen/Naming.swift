/// The rules that turn protobuf names into Swift and protobuf-c names.
enum Naming {
  /// Words Swift reserves, escaped with backticks when a name collides with one.
  static let keywords: Set<String> = [
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import",
    "init", "inout", "internal", "let", "open", "operator", "private", "precedencegroup",
    "protocol", "public", "rethrows", "static", "struct", "subscript", "typealias", "var",
    "break", "case", "catch", "continue", "default", "defer", "do", "else", "fallthrough",
    "for", "guard", "if", "in", "repeat", "return", "throw", "switch", "where", "while", "Any",
    "as", "await", "false", "is", "nil", "self", "Self", "super", "throws", "true", "try",
  ]

  /// `kp.wire.v1` becomes `Kp_Wire_V1_`.
  static func typePrefix(package: String) -> String {
    guard !package.isEmpty else { return "" }
    let parts = package.split(separator: ".").map { component in
      component.split(separator: "_").map { upperFirst(String($0)) }.joined()
    }
    return parts.joined(separator: "_") + "_"
  }

  /// `call_id` becomes `callId`; with `lowercasing`, `DEADLINE_EXCEEDED` becomes
  /// `deadlineExceeded`.
  static func lowerCamel(_ snake: String, lowercasing: Bool = false) -> String {
    let parts = snake.split(separator: "_").map { lowercasing ? $0.lowercased() : String($0) }
    guard let first = parts.first else { return snake }
    return lowerFirst(first) + parts.dropFirst().map(upperFirst).joined()
  }

  /// `kind` becomes `Kind`; `half_close` becomes `HalfClose`.
  static func upperCamel(_ snake: String) -> String {
    snake.split(separator: "_").map { upperFirst(String($0)) }.joined()
  }

  /// `ServingStatus` becomes `SERVING_STATUS`.
  static func upperSnake(_ camel: String) -> String {
    var result = ""
    var previous: Character?
    for character in camel {
      if character.isUppercase, let previous, previous.isLowercase || previous.isNumber {
        result.append("_")
      }
      result += character.uppercased()
      previous = character
    }
    return result
  }

  /// protoc-c's symbol for a name: `kp.wire.v1.GoAway` becomes `kp__wire__v1__go_away`.
  static func protobufCLower(_ fullName: String) -> String {
    fullName.split(separator: ".").map { piece in
      var result = ""
      for (offset, character) in piece.enumerated() {
        if offset > 0, character.isUppercase {
          result.append("_")
        }
        result += character.lowercased()
      }
      return result
    }.joined(separator: "__")
  }

  /// A name escaped with backticks when Swift reserves it.
  static func escaped(_ name: String) -> String {
    keywords.contains(name) ? "`\(name)`" : name
  }

  static func upperFirst(_ text: String) -> String {
    guard let first = text.first else { return text }
    return first.uppercased() + text.dropFirst()
  }

  static func lowerFirst(_ text: String) -> String {
    guard let first = text.first else { return text }
    return first.lowercased() + text.dropFirst()
  }

  /// A comment from the `.proto` file as `///` lines at an indentation.
  static func docComment(_ comment: String, indent: String) -> [String] {
    var lines = comment.split(separator: "\n", omittingEmptySubsequences: false).map {
      line -> String in
      var text = String(line)
      if text.hasPrefix(" ") {
        text.removeFirst()
      }
      while text.last == " " {
        text.removeLast()
      }
      return text
    }
    while lines.last?.isEmpty == true {
      lines.removeLast()
    }
    while lines.first?.isEmpty == true {
      lines.removeFirst()
    }
    return lines.map { $0.isEmpty ? indent + "///" : indent + "/// " + $0 }
  }
}
