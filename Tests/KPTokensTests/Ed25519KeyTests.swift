import KPTokens
import Testing

/// Ed25519 keys through OpenSSL, and the encodings around them.
@Suite("Ed25519 keys and encodings")
struct Ed25519KeyTests {
  @Test("a signature verifies with the matching public key only")
  func signVerify() throws {
    let key = try Ed25519PrivateKey.generate()
    let message = Array("hello".utf8)
    let signature = try key.signature(for: message)
    #expect(signature.count == 64)
    #expect(key.publicKey.isValidSignature(signature, for: message))
    #expect(!key.publicKey.isValidSignature(signature, for: Array("hellO".utf8)))
    #expect(!key.publicKey.isValidSignature(Array(signature.prefix(63)), for: message))
    #expect(!(try Ed25519PrivateKey.generate()).publicKey.isValidSignature(signature, for: message))
  }

  @Test("keys survive their raw and DER forms")
  func encodings() throws {
    let key = try Ed25519PrivateKey.generate()
    let copy = try Ed25519PrivateKey(rawRepresentation: key.rawRepresentation)
    #expect(copy.publicKey == key.publicKey)
    let der = key.publicKey.derRepresentation
    #expect(der.count == 44)
    #expect(try Ed25519PublicKey(derRepresentation: der) == key.publicKey)
    #expect(throws: TokenError.self) { try Ed25519PublicKey(derRepresentation: der + [0]) }
    #expect(throws: TokenError.self) { try Ed25519PublicKey(derRepresentation: [0x30, 0x00]) }
    #expect(throws: TokenError.self) { try Ed25519PrivateKey(rawRepresentation: [1, 2, 3]) }
  }

  @Test("RFC 8032 test vector 1 verifies")
  func rfc8032() throws {
    let publicKey = try Ed25519PublicKey(
      rawRepresentation: #require(
        Hex.decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")))
    let signature = try #require(
      Hex.decode(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
          + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
      ))
    #expect(publicKey.isValidSignature(signature, for: []))
  }

  @Test("base64url round-trips and refuses padding and stray characters")
  func base64URL() {
    for length in 0..<40 {
      let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
      #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
    }
    #expect(Base64URL.encode(Array("?>?".utf8)) == "Pz4_")
    #expect(Base64URL.decode("Pz4_") == Array("?>?".utf8))
    #expect(Base64URL.decode("Pz4/") == nil)
    #expect(Base64URL.decode("YQ==") == nil)
    #expect(Base64URL.decode("YR") == nil)
    #expect(Base64URL.decode("Y") == nil)
    #expect(Base64URL.decode("Y Q") == nil)
  }

  @Test("constant-time equality compares lengths and bytes")
  func constantTime() {
    #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
    #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
    #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
    #expect(ConstantTime.equals([], []))
  }
}
