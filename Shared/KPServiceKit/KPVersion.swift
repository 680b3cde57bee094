/// The version of KnowledgePlane every executable reports with `--version`.
public enum KPVersion {
  /// The release version, following semantic versioning.
  public static let current = "0.1.0"
}
