/// A parsed media type such as `text/html; charset=utf-8`: a lowercased `type/subtype` and its
/// parameters.
public struct MediaType: Sendable, Hashable, CustomStringConvertible {
  /// The lowercased `type/subtype`, such as `text/html`.
  public var essence: String

  /// The parameters, names lowercased, values as given without quotes.
  public var parameters: [String: String]

  /// Creates a media type from its parts.
  ///
  /// - Parameters:
  ///   - essence: The `type/subtype`; it is lowercased.
  ///   - parameters: The parameters; their names are lowercased.
  public init(essence: String, parameters: [String: String] = [:]) {
    self.essence = essence.lowercased()
    var lowered: [String: String] = [:]
    for (name, value) in parameters {
      lowered[name.lowercased()] = value
    }
    self.parameters = lowered
  }

  /// Parses a `Content-Type` value; returns `nil` when it is not `type/subtype` followed by
  /// optional `; name=value` parameters.
  ///
  /// - Parameter text: The value, such as `Text/HTML; charset="UTF-8"`.
  public init?(parsing text: String) {
    let parts = text.split(separator: ";", omittingEmptySubsequences: false)
    let essence = parts[0].trimmingASCIIWhitespace().lowercased()
    let halves = essence.split(separator: "/", omittingEmptySubsequences: false)
    guard halves.count == 2, halves.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isTokenCharacter) })
    else {
      return nil
    }

    var parameters: [String: String] = [:]
    for part in parts.dropFirst() {
      let trimmed = part.trimmingASCIIWhitespace()
      if trimmed.isEmpty {
        continue
      }
      guard let equals = trimmed.firstIndex(of: "=") else {
        return nil
      }
      let name = trimmed[..<equals].trimmingASCIIWhitespace().lowercased()
      var value = trimmed[trimmed.index(after: equals)...].trimmingASCIIWhitespace()
      if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
        value = String(value.dropFirst().dropLast())
      }
      guard !name.isEmpty else {
        return nil
      }
      parameters[name] = value
    }
    self.init(essence: essence, parameters: parameters)
  }

  /// The `charset` parameter, lowercased, if present.
  public var charset: String? { parameters["charset"]?.lowercased() }

  /// The essence followed by the parameters in name order.
  public var description: String {
    let suffix = parameters.keys.sorted().map { "; \($0)=\(parameters[$0]!)" }.joined()
    return essence + suffix
  }
}

extension Character {
  /// Whether this is one of RFC 9110's `tchar` characters, allowed in a media type's names.
  fileprivate var isTokenCharacter: Bool {
    guard let ascii = asciiValue else {
      return false
    }
    if (ascii >= 0x30 && ascii <= 0x39) || (ascii >= 0x41 && ascii <= 0x5A)
      || (ascii >= 0x61 && ascii <= 0x7A)
    {
      return true
    }
    return "!#$%&'*+-.^_`|~".contains(self)
  }
}

extension StringProtocol {
  /// The text without leading and trailing spaces and tabs.
  fileprivate func trimmingASCIIWhitespace() -> String {
    var slice = Substring(self)
    while let first = slice.first, first == " " || first == "\t" {
      slice.removeFirst()
    }
    while let last = slice.last, last == " " || last == "\t" {
      slice.removeLast()
    }
    return String(slice)
  }
}
