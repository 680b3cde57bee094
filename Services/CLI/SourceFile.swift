import Foundation

/// A file `kp ingest` found: where it is, what it is, and the facts that tell whether it
/// changed since the last run.
struct SourceFile {
  /// The path relative to the ingested root, with `/` separators; the document's external id.
  var relativePath: String
  /// The absolute path.
  var path: String
  /// The media type sent as the document's content type.
  var contentType: String
  var size: Int
  /// Modification time, whole seconds since 1970.
  var modified: Int

  /// `size:mtime`, the part of what the resume state remembers that the file itself gives.
  var fingerprint: String { "\(size):\(modified)" }

  /// Media types by file extension.
  static let mediaTypes: [String: String] = [
    "html": "text/html", "htm": "text/html", "xhtml": "text/html",
    "md": "text/markdown", "markdown": "text/markdown",
    "txt": "text/plain", "text": "text/plain", "rst": "text/plain", "adoc": "text/plain",
    "pdf": "application/pdf",
  ]

  /// Finds the files under `root` (or `root` itself when it is a file), sorted by path;
  /// hidden files and directories are skipped. Files of unknown type are counted by
  /// extension in `skipped`.
  static func scan(_ root: String) throws -> (files: [SourceFile], skipped: [String: Int]) {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
      throw CLIError.file("'\(root)' does not exist")
    }
    let rootURL = URL(fileURLWithPath: root).standardizedFileURL
    var candidates: [(URL, String)] = []
    if isDirectory.boolValue {
      guard
        let walker = FileManager.default.enumerator(
          at: rootURL, includingPropertiesForKeys: [.isRegularFileKey],
          options: [.skipsHiddenFiles])
      else {
        throw CLIError.file("cannot read the directory '\(root)'")
      }
      let prefix = rootURL.path.hasSuffix("/") ? rootURL.path : rootURL.path + "/"
      for case let url as URL in walker {
        let path = url.standardizedFileURL.path
        guard path.hasPrefix(prefix) else { continue }
        candidates.append((url, String(path.dropFirst(prefix.count))))
      }
    } else {
      candidates.append((rootURL, rootURL.lastPathComponent))
    }

    var files: [SourceFile] = []
    var skipped: [String: Int] = [:]
    for (url, relative) in candidates {
      guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
        attributes[.type] as? FileAttributeType == .typeRegular
      else { continue }
      let suffix = url.pathExtension.lowercased()
      guard let type = mediaTypes[suffix] else {
        skipped[suffix.isEmpty ? "(none)" : "." + suffix, default: 0] += 1
        continue
      }
      let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
      let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
      files.append(
        SourceFile(
          relativePath: relative, path: url.path, contentType: type, size: size,
          modified: Int(modified)))
    }
    if !isDirectory.boolValue && files.isEmpty {
      throw CLIError.file(
        "'\(root)' is not a type kp ingest knows (by extension: "
          + mediaTypes.keys.sorted().map { "." + $0 }.joined(separator: " ") + ")")
    }
    return (files.sorted { $0.relativePath < $1.relativePath }, skipped)
  }
}
