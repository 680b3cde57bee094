import Foundation

/// One tenant the load runs as: a label for the report and the bearer credential (an access
/// token or an API key) the gateway verifies. The label is the caller's choice, usually the
/// tenant's slug; the gateway learns the tenant from the credential alone.
struct TenantCredential: Sendable, Equatable {
  /// The label in the report, such as `acme`.
  var tenant: String
  /// The access token or API key; never logged or printed.
  var token: String

  /// Reads a credentials file: one `tenant-label credential` pair a line; blank lines and lines
  /// starting with `#` are skipped.
  ///
  /// - Parameter text: The file's contents.
  /// - Parameter path: The file's path, for messages.
  /// - Returns: The credentials in file order.
  /// - Throws: ``LoadError`` naming the line that is wrong.
  static func parse(_ text: String, path: String) throws(LoadError) -> [TenantCredential] {
    var credentials: [TenantCredential] = []
    for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false)
      .enumerated()
    {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
      let words = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard words.count == 2 else {
        throw LoadError(
          .invalidCredentials,
          "\(path):\(number + 1): expected 'tenant-label credential', two words")
      }
      let tenant = String(words[0])
      guard !credentials.contains(where: { $0.tenant == tenant }) else {
        throw LoadError(
          .invalidCredentials, "\(path):\(number + 1): tenant '\(tenant)' is listed twice")
      }
      credentials.append(TenantCredential(tenant: tenant, token: String(words[1])))
    }
    return credentials
  }

  /// Reads a credentials file from disk.
  ///
  /// - Throws: ``LoadError`` when it cannot be read, has a malformed line, or lists no one.
  static func load(path: String) throws(LoadError) -> [TenantCredential] {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw LoadError(.invalidCredentials, "cannot read the credentials file \(path)")
    }
    let credentials = try parse(text, path: path)
    guard !credentials.isEmpty else {
      throw LoadError(.invalidCredentials, "the credentials file \(path) lists no tenant")
    }
    return credentials
  }
}
