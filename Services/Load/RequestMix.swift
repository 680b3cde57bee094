import Foundation

/// The share of each operation in the load, as integer weights: `search=80,get=15,ingest=5`.
///
/// Weights are relative (`search=4,get=1` is 80% searches); an operation left out has weight 0.
/// At least one weight must be positive.
struct RequestMix: Sendable, Equatable, CustomStringConvertible {
  /// Each operation's weight; absent means 0.
  let weights: [LoadOperation: Int]

  /// The sum of the weights.
  var total: Int { weights.values.reduce(0, +) }

  /// Makes a mix from weights.
  ///
  /// - Throws: ``LoadError`` when a weight is negative or every weight is zero.
  init(_ weights: [LoadOperation: Int]) throws(LoadError) {
    guard weights.values.allSatisfy({ $0 >= 0 }) else {
      throw LoadError(.invalidSetting, "mix weights must be whole numbers of 0 or more")
    }
    guard weights.values.reduce(0, +) > 0 else {
      throw LoadError(.invalidSetting, "the mix needs at least one weight above 0")
    }
    self.weights = weights.filter { $0.value > 0 }
  }

  /// Parses `name=weight` pairs separated by commas.
  ///
  /// - Parameter text: Such as `search=80,get=15,ingest=5`.
  /// - Throws: ``LoadError`` naming the pair that is wrong.
  init(parsing text: String) throws(LoadError) {
    let names = LoadOperation.allCases.map(\.rawValue).joined(separator: ", ")
    var weights: [LoadOperation: Int] = [:]
    for pair in text.split(separator: ",", omittingEmptySubsequences: false) {
      let trimmed = pair.trimmingCharacters(in: .whitespaces)
      let parts = trimmed.split(separator: "=", maxSplits: 1).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      guard parts.count == 2, let operation = LoadOperation(rawValue: parts[0]) else {
        throw LoadError(
          .invalidSetting,
          "mix entry '\(trimmed)' is not name=weight with a name among \(names)")
      }
      guard let weight = Int(parts[1]), (0...1_000_000).contains(weight) else {
        throw LoadError(
          .invalidSetting,
          "mix weight '\(parts[1])' of \(operation) is not a whole number from 0 to 1000000")
      }
      guard weights[operation] == nil else {
        throw LoadError(.invalidSetting, "mix names \(operation) twice")
      }
      weights[operation] = weight
    }
    try self.init(weights)
  }

  /// The weight of an operation.
  func weight(of operation: LoadOperation) -> Int { weights[operation] ?? 0 }

  /// The operation for a number from 0 up to ``total``, each taking a run as wide as its weight.
  ///
  /// - Parameter draw: A number in `0..<total`.
  func operation(for draw: Int) -> LoadOperation {
    var remaining = draw
    for operation in LoadOperation.allCases {
      let weight = weight(of: operation)
      if remaining < weight { return operation }
      remaining -= weight
    }
    return LoadOperation.allCases.last { weight(of: $0) > 0 } ?? .search
  }

  /// Picks an operation with a generator, in proportion to the weights.
  func pick(using generator: inout some RandomNumberGenerator) -> LoadOperation {
    operation(for: Int.random(in: 0..<total, using: &generator))
  }

  /// The canonical text, such as `search=80,get=15,ingest=5`.
  var description: String {
    LoadOperation.allCases.filter { weight(of: $0) > 0 }.map { "\($0.rawValue)=\(weight(of: $0))" }
      .joined(separator: ",")
  }
}
