import Foundation

/// The tokens `kp login` saves, so later commands can call the gateway as that user.
///
/// The file is JSON, written atomically with mode 0600; it holds a refresh token, so it is
/// as secret as a password.
struct SavedCredentials: Codable {
  var gateway: String
  var tenant: String
  var email: String
  var accessToken: String
  var refreshToken: String
  /// When the access token expires, in seconds since 1970.
  var expiresAt: Double

  enum CodingKeys: String, CodingKey {
    case gateway, tenant, email
    case accessToken = "access_token"
    case refreshToken = "refresh_token"
    case expiresAt = "expires_at"
  }

  /// Whether the access token is expired or expires within a minute.
  var needsRefresh: Bool {
    Date().timeIntervalSince1970 > expiresAt - 60
  }

  /// Reads the file; `nil` when it does not exist.
  static func load(path: String) throws(CLIError) -> SavedCredentials? {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    do {
      let data = try Data(contentsOf: URL(fileURLWithPath: path))
      return try JSONDecoder().decode(SavedCredentials.self, from: data)
    } catch {
      throw .file(
        "cannot read the saved credentials in \(path) (\(error.localizedDescription)); "
          + "run 'kp login' again")
    }
  }

  /// Writes the file with mode 0600, replacing it atomically.
  func save(path: String) throws(CLIError) {
    let url = URL(fileURLWithPath: path)
    do {
      try FileManager.default.createDirectory(
        at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
        attributes: [.posixPermissions: 0o700])
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      let temporary = url.deletingLastPathComponent()
        .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
      guard
        FileManager.default.createFile(
          atPath: temporary.path, contents: try encoder.encode(self),
          attributes: [.posixPermissions: 0o600])
      else {
        throw CLIError.file("cannot write \(temporary.path)")
      }
      guard rename(temporary.path, url.path) == 0 else {
        throw CLIError.file("cannot write \(path): \(String(cString: strerror(errno)))")
      }
    } catch let error as CLIError {
      throw error
    } catch {
      throw .file("cannot write \(path): \(error.localizedDescription)")
    }
  }

  /// Runs `body` while holding an exclusive advisory lock (`flock`) that every `kp` process
  /// using the credentials at `path` takes before it refreshes them, so that one refreshes and
  /// the others read what it saved: a refresh token used twice revokes the whole session.
  ///
  /// The lock is on `<path>.lock`, not on the credentials file itself, which ``save(path:)``
  /// replaces by renaming a new file over it: a lock on the replaced file would guard nothing.
  static func withRefreshLock<T>(
    path: String, _ body: () throws(CLIError) -> T
  ) throws(CLIError) -> T {
    let lockPath = path + ".lock"
    try? FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
      attributes: [.posixPermissions: 0o700])
    let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
      throw .file("cannot open \(lockPath): \(String(cString: strerror(errno)))")
    }
    defer { close(descriptor) }
    while flock(descriptor, LOCK_EX) != 0 {
      guard errno == EINTR else {
        throw .file("cannot lock \(lockPath): \(String(cString: strerror(errno)))")
      }
    }
    defer { flock(descriptor, LOCK_UN) }
    return try body()
  }

  /// Removes the file, if it exists.
  static func remove(path: String) {
    try? FileManager.default.removeItem(atPath: path)
  }
}
