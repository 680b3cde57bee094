import Foundation

/// An email address as a user typed it, and the key that makes it unique within a tenant.
///
/// The address is trimmed and put in Unicode NFC; the key is that text lowercased, so
/// `Ada@Example.COM` and `ada@example.com` are the same user.
struct EmailAddress: Sendable, Hashable {
  /// The longest address accepted: 254 characters (RFC 5321's path limit).
  static let maximumLength = 254

  /// The address, trimmed and NFC-normalised, with its case kept for display.
  let text: String

  /// The lowercased form that identifies the user within the tenant.
  let key: String

  /// Reads an address.
  ///
  /// - Parameter raw: What the user typed.
  /// - Throws: ``AuthError`` `invalidArgument` naming what is wrong.
  init(_ raw: String) throws(AuthError) {
    let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
      .precomposedStringWithCanonicalMapping
    guard !text.isEmpty else {
      throw AuthError(.invalidArgument, "an email address is required")
    }
    guard text.count <= Self.maximumLength else {
      throw AuthError(
        .invalidArgument, "an email address is at most \(Self.maximumLength) characters")
    }
    let parts = text.split(separator: "@", omittingEmptySubsequences: false)
    guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
      !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
      !text.unicodeScalars.contains(where: {
        CharacterSet.whitespacesAndNewlines.contains($0)
          || CharacterSet.controlCharacters.contains($0)
      })
    else {
      throw AuthError(
        .invalidArgument, "the email address is not of the form name@domain.example")
    }
    self.text = text
    self.key = Self.key(text)
  }

  /// The lookup key of an address without validating it, for sign-in, where a malformed
  /// address must behave like an unknown one.
  static func key(_ raw: String) -> String {
    raw.trimmingCharacters(in: .whitespacesAndNewlines).precomposedStringWithCanonicalMapping
      .lowercased()
  }
}
