import KPTokens
import Testing

/// Refresh tokens and API keys: shape, routing prefix and stored hash.
@Suite("Opaque secrets")
struct OpaqueSecretTests {
  @Test("a generated secret parses back, shows only its prefix and matches its hash")
  func roundTrip() throws {
    let secret = try OpaqueSecret.generate(kind: OpaqueSecret.apiKeyKind, locator: "t_ab_12")
    #expect(secret.text.hasPrefix("kpk_t_ab_12_"))
    #expect(secret.text.count == "kpk_t_ab_12_".count + 64)
    let parsed = try OpaqueSecret(parsing: secret.text, kind: OpaqueSecret.apiKeyKind)
    #expect(parsed.locator == "t_ab_12")
    #expect(parsed.matches(storedHash: secret.hash))
    #expect(secret.displayPrefix.count == "kpk_t_ab_12_".count + 8)
    #expect(secret.hash.count == 32)

    let other = try OpaqueSecret.generate(kind: OpaqueSecret.apiKeyKind, locator: "t_ab_12")
    #expect(other != secret)
    #expect(!other.matches(storedHash: secret.hash))
  }

  @Test(
    "text that is not a secret of the kind is refused",
    arguments: [
      "", "kpk_", "kpk_t1_", "kpr_t1_" + String(repeating: "a", count: 64),
      "kpk_t1_" + String(repeating: "A", count: 64), "kpk_t1_" + String(repeating: "a", count: 63),
      "kpk__" + String(repeating: "a", count: 64), "kpk_t 1_" + String(repeating: "a", count: 64),
    ])
  func refused(text: String) {
    #expect(throws: TokenError(code: .malformedSecret, message: "")) {
      try OpaqueSecret(parsing: text, kind: OpaqueSecret.apiKeyKind)
    }
  }
}
