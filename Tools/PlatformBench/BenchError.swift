/// A bench that cannot go on, with the reason a person can act on.
struct BenchError: Error, CustomStringConvertible {
  let description: String

  init(_ message: String) {
    description = message
  }
}
