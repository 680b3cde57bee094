import Foundation

/// One bench query, in the store's web-search syntax and in the peer's query syntax.
struct BenchQuery: Codable, Sendable {
  /// The kind, for the report: `and`, `term`, `phrase`, `or`, `exclusion`.
  var kind: String
  /// The store's syntax, as a user types it.
  var text: String
  /// The same query in tantivy's syntax (`+` required, `-` excluded).
  var tantivy: String
}

/// Realistic queries drawn from a corpus: words a reader of the documentation searches for
/// (neither stop words nor rarities), pairs and phrases that occur together in one chunk, some
/// `OR` and some exclusions. Deterministic for a corpus.
struct QueryMix {
  /// A small deterministic generator (SplitMix64).
  private struct Generator {
    var state: UInt64

    mutating func next(_ bound: Int) -> Int {
      state &+= 0x9E37_79B9_7F4A_7C15
      var value = state
      value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
      value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
      value ^= value >> 31
      return Int(value % UInt64(max(1, bound)))
    }
  }

  /// Words the queries avoid: PostgreSQL's English stop words drop them, tantivy keeps them.
  private static let stopWords: Set<String> = [
    "about", "above", "after", "again", "against", "also", "because", "been", "before", "being",
    "below", "between", "both", "could", "does", "doing", "down", "during", "each", "from",
    "further", "have", "having", "here", "into", "itself", "just", "more", "most", "only",
    "other", "over", "same", "should", "some", "such", "than", "that", "their", "them",
    "then", "there", "these", "they", "this", "those", "through", "under", "until", "very",
    "were", "what", "when", "where", "which", "while", "will", "with", "would", "your",
  ]

  /// The lowercase words of a text that a query may use: letters only, 4 to 20 long.
  private static func words(_ text: String) -> [String] {
    text.lowercased().split { !$0.isLetter || !$0.isASCII }.map(String.init).filter {
      $0.count >= 4 && $0.count <= 20 && !stopWords.contains($0)
    }
  }

  /// Makes `count` queries from chunk texts.
  static func make(count: Int, chunks: [String]) -> [BenchQuery] {
    var generator = Generator(state: 0x6B70_6265_6E63_6821)

    // Words in 0.2% to 8% of chunks: specific enough to mean something, common enough to hit.
    var frequency: [String: Int] = [:]
    for chunk in chunks {
      for word in Set(words(chunk)) { frequency[word, default: 0] += 1 }
    }
    let low = max(2, chunks.count / 500)
    let high = max(low + 1, chunks.count * 8 / 100)
    let vocabulary = frequency.filter { $0.value >= low && $0.value <= high }
    let pool = vocabulary.keys.sorted()

    // Two useful words from one chunk, or nil when the chunk has fewer.
    func pair() -> (String, String)? {
      let chosen = Array(
        Set(words(chunks[generator.next(chunks.count)]).filter { vocabulary[$0] != nil })
      ).sorted()
      guard chosen.count >= 2 else { return nil }
      let first = chosen[generator.next(chosen.count)]
      let second = chosen.filter { $0 != first }[generator.next(chosen.count - 1)]
      return (first, second)
    }
    // Two adjacent useful words of one chunk, or nil.
    func phrase() -> String? {
      let sequence = chunks[generator.next(chunks.count)].lowercased()
        .split { !$0.isLetter || !$0.isASCII }.map(String.init)
      let starts = sequence.indices.dropLast().filter { index in
        let (first, second) = (sequence[index], sequence[index + 1])
        return vocabulary[first] != nil && second.count >= 4 && !stopWords.contains(second)
      }
      guard !starts.isEmpty else { return nil }
      let start = starts[generator.next(starts.count)]
      return sequence[start] + " " + sequence[start + 1]
    }
    func word() -> String { pool[generator.next(pool.count)] }

    var queries: [BenchQuery] = []
    var attempts = 0
    while queries.count < count && attempts < count * 100 && !pool.isEmpty {
      attempts += 1
      let slot = queries.count * 100 / count
      switch slot {
      case 0..<30:
        guard let (a, b) = pair() else { continue }
        queries.append(BenchQuery(kind: "and", text: "\(a) \(b)", tantivy: "+\(a) +\(b)"))
      case 30..<40:
        guard let (a, b) = pair() else { continue }
        let c = word()
        queries.append(
          BenchQuery(kind: "and", text: "\(a) \(b) \(c)", tantivy: "+\(a) +\(b) +\(c)"))
      case 40..<50:
        let a = word()
        queries.append(BenchQuery(kind: "term", text: a, tantivy: "+\(a)"))
      case 50..<65:
        guard let text = phrase() else { continue }
        queries.append(BenchQuery(kind: "phrase", text: "\"\(text)\"", tantivy: "+\"\(text)\""))
      case 65..<72:
        guard let text = phrase() else { continue }
        let a = word()
        queries.append(
          BenchQuery(kind: "phrase", text: "\"\(text)\" \(a)", tantivy: "+\"\(text)\" +\(a)"))
      case 72..<82:
        let (a, b) = (word(), word())
        guard a != b else { continue }
        queries.append(BenchQuery(kind: "or", text: "\(a) OR \(b)", tantivy: "\(a) \(b)"))
      case 82..<88:
        guard let (a, b) = pair() else { continue }
        let c = word()
        queries.append(
          BenchQuery(kind: "or", text: "\(a) \(b) OR \(c)", tantivy: "+\(a) +(\(b) \(c))"))
      default:
        guard let (a, b) = pair() else { continue }
        let c = word()
        guard c != a && c != b else { continue }
        queries.append(
          BenchQuery(kind: "exclusion", text: "\(a) \(b) -\(c)", tantivy: "+\(a) +\(b) -\(c)"))
      }
    }
    return queries
  }
}
