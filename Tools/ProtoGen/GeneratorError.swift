/// Why `kp-protogen` could not generate code.
struct GeneratorError: Error, CustomStringConvertible {
  /// A short stable name of the failure, such as `unsupported_syntax`.
  var code: String

  /// What is wrong, naming the `.proto` element, and what to do about it.
  var message: String

  var description: String { "kp-protogen: \(code): \(message)" }
}
