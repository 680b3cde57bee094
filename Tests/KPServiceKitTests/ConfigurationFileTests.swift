import KPServiceKit
import Testing

@Suite("ConfigurationFile")
struct ConfigurationFileTests {
  @Test("comments, blank lines, underscores and quoted values")
  func parsesLines() throws {
    let file = try ConfigurationFile(
      parsing: """
        # KnowledgePlane auth service

        listen_address = 127.0.0.1:7443   # loopback only
        greeting = "  spaced # not a comment \\"quoted\\" \\\\ "
        empty =
        """,
      path: "auth.conf")
    #expect(file.values["listen-address"] == "127.0.0.1:7443")
    #expect(file.values["greeting"] == "  spaced # not a comment \"quoted\" \\ ")
    #expect(file.values["empty"] == "")
    #expect(file.lines["greeting"] == 4)
  }

  @Test(
    "malformed lines are refused with the file and line",
    arguments: [
      ("a = 1\njust words\n", "kp.conf:2: expected 'key = value'"),
      ("= 1\n", "kp.conf:1: the line has a value but no key"),
      ("a = 1\nA = 2\n", "kp.conf:2: 'A' is already set on line 1"),
      ("a = \"open\n", "kp.conf:1: the quoted value has no closing quote"),
      ("a = \"x\" y\n", "kp.conf:1: unexpected text after the closing quote"),
      ("a = \"\\n\"\n", "kp.conf:1: unknown escape"),
    ])
  func malformed(text: String, expected: String) {
    let error = #expect(throws: ConfigurationError.self) {
      try ConfigurationFile(parsing: text, path: "kp.conf")
    }
    #expect(error?.code == .malformedFile)
    #expect(error?.message.hasPrefix(expected) == true, "\(error?.message ?? "")")
  }

  @Test("a file that cannot be read is refused with its path")
  func unreadable() {
    let error = #expect(throws: ConfigurationError.self) {
      try ConfigurationFile.load(path: "/nonexistent/kp.conf")
    }
    #expect(error?.code == .unreadableFile)
    #expect(error?.message.contains("/nonexistent/kp.conf") == true)
  }
}
