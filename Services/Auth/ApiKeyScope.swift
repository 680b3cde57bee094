/// What an API key may be used for.
enum ApiKeyScope: String, Sendable, CaseIterable {
  /// Search and read documents.
  case search
  /// Push documents through ingest.
  case ingest
  /// Connect an integration agent.
  case agent
  /// Manage the tenant as an admin would.
  case admin

  /// Reads scope names, refusing unknown ones and duplicates collapsed.
  ///
  /// - Parameter names: The names requested.
  /// - Returns: The scopes, in the order of ``allCases``.
  /// - Throws: ``AuthError`` `invalidArgument` for no scope or an unknown one.
  static func parse(_ names: [String]) throws(AuthError) -> [ApiKeyScope] {
    guard !names.isEmpty else {
      throw AuthError(
        .invalidArgument,
        "an API key needs at least one scope: " + allCases.map(\.rawValue).joined(separator: ", "))
    }
    var scopes = Set<ApiKeyScope>()
    for name in names {
      guard let scope = ApiKeyScope(rawValue: name) else {
        throw AuthError(
          .invalidArgument,
          "unknown API key scope '\(name.prefix(32))'; known scopes: "
            + allCases.map(\.rawValue).joined(separator: ", "))
      }
      scopes.insert(scope)
    }
    return allCases.filter(scopes.contains)
  }
}
