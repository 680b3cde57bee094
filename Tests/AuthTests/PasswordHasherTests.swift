import Testing

@testable import Auth

/// argon2id hashes through libargon2.
@Suite("Password hashing")
struct PasswordHasherTests {
  let hasher: PasswordHasher

  init() throws {
    hasher = try PasswordHasher(
      parameters: .init(memoryKiB: 1024, iterations: 1, parallelism: 1))
  }

  @Test("a hash verifies its password and no other")
  func verify() async throws {
    let hash = try await hasher.hash("correct horse battery staple")
    #expect(hash.hasPrefix("$argon2id$v=19$m=1024,t=1,p=1$"))
    #expect(await hasher.verify("correct horse battery staple", against: hash))
    #expect(!(await hasher.verify("correct horse battery stapl", against: hash)))
    #expect(!(await hasher.verify("", against: hash)))
    #expect(try await hasher.hash("same") != (try await hasher.hash("same")))
  }

  @Test("a missing hash never verifies, and malformed hashes fail closed")
  func decoy() async {
    #expect(!(await hasher.verify("anything", against: nil)))
    #expect(!(await hasher.verify("anything", against: "$argon2id$v=19$m=1,t=1,p=1$bad")))
    #expect(!(await hasher.verify("anything", against: "")))
  }

  @Test("hashes with other parameters verify and ask to be rehashed")
  func rehash() async throws {
    let stronger = try PasswordHasher(
      parameters: .init(memoryKiB: 2048, iterations: 2, parallelism: 1))
    let old = try await hasher.hash("pw")
    #expect(await stronger.verify("pw", against: old))
    #expect(stronger.needsRehash(old))
    #expect(!hasher.needsRehash(old))
  }

  @Test("an overlong password is refused")
  func overlong() async {
    await #expect(throws: AuthError(.invalidArgument, "")) {
      try await hasher.hash(String(repeating: "x", count: 1025))
    }
  }
}
