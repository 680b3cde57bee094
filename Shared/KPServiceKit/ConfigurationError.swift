/// A command line, environment variable or configuration file that cannot be used as given.
///
/// The message names what is wrong and where (the flag, the variable, or the file and line), so
/// a person can fix it. Errors compare equal when their codes are equal.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What kind of problem this is. New codes may be added; match with `==`, not exhaustively.
  public struct Code: Sendable, Hashable, CustomStringConvertible {
    private let name: String

    private init(_ name: String) {
      self.name = name
    }

    /// A flag the executable does not know.
    public static let unknownOption = Code("unknownOption")
    /// A flag that needs a value came last, with nothing after it.
    public static let missingValue = Code("missingValue")
    /// A positional argument given to an executable that takes none.
    public static let unexpectedArgument = Code("unexpectedArgument")
    /// A value of the wrong shape, such as `--port abc`.
    public static let invalidValue = Code("invalidValue")
    /// The configuration file could not be read.
    public static let unreadableFile = Code("unreadableFile")
    /// A line of the configuration file is not `key = value`, or names an unknown key.
    public static let malformedFile = Code("malformedFile")
    /// A setting without a default was given no value.
    public static let missingSetting = Code("missingSetting")

    /// The code's name, such as `unknownOption`.
    public var description: String { name }
  }

  /// What kind of problem this is.
  public var code: Code

  /// A description a person can act on.
  public var message: String

  /// Creates an error.
  ///
  /// - Parameters:
  ///   - code: What kind of problem this is.
  ///   - message: A description a person can act on.
  public init(code: Code, message: String) {
    self.code = code
    self.message = message
  }

  public static func == (lhs: ConfigurationError, rhs: ConfigurationError) -> Bool {
    lhs.code == rhs.code
  }

  /// The message.
  public var description: String { message }
}
