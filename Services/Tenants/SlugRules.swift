import Foundation
import KPRPC

/// The rules a tenant's slug and display name must follow.
///
/// A slug is 3 to 40 characters of lowercase ASCII letters, digits and hyphens, starting with
/// a letter, checked after NFC normalisation, so a name written in composed or decomposed form
/// gets the same answer. SQL keywords and names the platform reserves are refused. The slug is
/// only ever a bound value: schema and role names come from the tenant's id.
enum SlugRules {
  /// Names refused because the platform, PostgreSQL or common URLs use them.
  static let reservedNames: Set<String> = [
    "admin", "administrator", "api", "app", "apps", "assets", "auth", "billing", "console",
    "dashboard", "default", "docs", "gateway", "health", "healthz", "help", "ingest", "internal",
    "kp", "knowledge", "knowledgeplane", "localhost", "login", "logout", "mail", "metrics",
    "operator", "postgres", "postgresql", "public", "root", "security", "signup", "static",
    "status", "superuser", "support", "system", "tenant", "tenants", "template0", "template1",
    "www",
  ]

  /// PostgreSQL's reserved keywords, and statements' leading words, of three letters or more.
  static let sqlKeywords: Set<String> = [
    "all", "alter", "analyse", "analyze", "and", "any", "array", "asc", "asymmetric", "begin",
    "both", "case", "cast", "check", "collate", "column", "commit", "constraint", "copy",
    "create", "database", "default", "deferrable", "delete", "desc", "distinct", "drop", "else",
    "end", "except", "execute", "false", "fetch", "for", "foreign", "from", "grant", "group",
    "having", "index", "initially", "insert", "intersect", "into", "lateral", "leading", "limit",
    "localtime", "localtimestamp", "not", "null", "offset", "only", "order", "placing",
    "primary", "references", "reset", "returning", "revoke", "role", "rollback", "schema",
    "select", "set", "show", "some", "symmetric", "table", "then", "trailing", "true",
    "truncate", "union", "unique", "update", "user", "using", "vacuum", "values", "variadic",
    "view", "when", "where", "window", "with",
  ]

  /// Checks a slug and returns it normalised.
  ///
  /// - Parameter raw: The slug as the caller sent it.
  /// - Returns: The NFC form, which passed every rule.
  /// - Throws: `RPCError` INVALID_ARGUMENT naming the rule broken.
  static func validate(_ raw: String) throws(RPCError) -> String {
    let slug = raw.precomposedStringWithCanonicalMapping
    let scalars = slug.unicodeScalars
    let shown = String(slug.prefix(50))

    guard (3...40).contains(scalars.count) else {
      throw invalid("slug '\(shown)' has \(scalars.count) characters; use 3 to 40")
    }
    if slug.hasPrefix("pg_") || slug.hasPrefix("pg-") {
      throw invalid("slug '\(shown)' is reserved: names starting with 'pg' and '_' or '-' are")
    }
    if let bad = scalars.first(where: { !isSlugScalar($0) }) {
      let hint =
        ("A"..."Z").contains(bad)
        ? "use lowercase letters" : "use only a-z, 0-9 and '-' (no accents or look-alikes)"
      throw invalid(
        "slug '\(shown)' contains '\(bad)' (U+\(String(bad.value, radix: 16, uppercase: true)))"
          + "; \(hint)")
    }
    guard let first = scalars.first, ("a"..."z").contains(first) else {
      throw invalid("slug '\(shown)' must start with a letter a-z")
    }
    if reservedNames.contains(slug) {
      throw invalid("slug '\(slug)' is reserved by the platform; choose another")
    }
    if sqlKeywords.contains(slug) {
      throw invalid("slug '\(slug)' is an SQL keyword; choose another")
    }
    return slug
  }

  /// Checks a display name and returns it normalised and trimmed.
  ///
  /// - Parameter raw: The name as sent.
  /// - Returns: The NFC form without surrounding white space: 1 to 100 characters, no control
  ///   characters.
  /// - Throws: `RPCError` INVALID_ARGUMENT naming the rule broken.
  static func validateDisplayName(_ raw: String) throws(RPCError) -> String {
    let name = raw.precomposedStringWithCanonicalMapping.trimmingCharacters(
      in: .whitespacesAndNewlines)
    guard (1...100).contains(name.count) else {
      throw invalid("display name has \(name.count) characters; use 1 to 100")
    }
    guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
    else {
      throw invalid("display name contains a control character")
    }
    return name
  }

  private static func isSlugScalar(_ scalar: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-"
  }

  private static func invalid(_ message: String) -> RPCError {
    RPCError(.invalidArgument, message)
  }
}
