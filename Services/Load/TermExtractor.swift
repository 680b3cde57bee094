/// Turns sampled documents into query terms: distinct lowercase words of 4 to 24 letters that
/// are not common stop words, so a search for one finds the document it came from.
enum TermExtractor {
  /// The most terms kept per tenant.
  static let maximumTerms = 2000

  /// Words for generated documents when a tenant has none to sample.
  static let fallbackVocabulary = [
    "release", "planning", "quarterly", "roadmap", "customer", "onboarding", "security",
    "incident", "database", "migration", "latency", "budget", "hiring", "design", "review",
    "kubernetes", "gateway", "invoice", "support", "escalation", "handbook", "policy",
    "architecture", "benchmark", "retention", "compliance", "analytics", "dashboard",
  ]

  /// English stop words of four letters or more, which the search drops from queries.
  static let stopWords: Set<String> = [
    "about", "above", "after", "again", "against", "been", "before", "being", "below",
    "between", "both", "could", "does", "doing", "down", "during", "each", "from", "further",
    "have", "having", "here", "hers", "herself", "himself", "into", "itself", "just", "more",
    "most", "myself", "once", "only", "other", "ours", "ourselves", "over", "same", "should",
    "some", "such", "than", "that", "their", "theirs", "them", "themselves", "then", "there",
    "these", "they", "this", "those", "through", "under", "until", "very", "were", "what",
    "when", "where", "which", "while", "whom", "with", "would", "your", "yours", "yourself",
    "yourselves", "also", "will", "shall", "because",
  ]

  /// The terms of some documents, sorted, so a seed gives the same queries every run.
  static func terms(of documents: [SampledDocument]) -> [String] {
    var seen: Set<String> = []
    for document in documents {
      var word = ""
      for character in document.text.lowercased() + " " {
        if character.isLetter {
          word.append(character)
          continue
        }
        if (4...24).contains(word.count), !stopWords.contains(word) { seen.insert(word) }
        word = ""
      }
    }
    return Array(seen.sorted().prefix(maximumTerms))
  }
}
