import Foundation
public import KPLogging

/// The PostgreSQL clusters a deployment uses, by name, each with its own connection pool.
///
/// The first cluster listed also holds the tenant registry. Clusters are written as
/// `name=url` pairs separated by commas, such as
/// `main=postgresql://kp@db1/kp,second=postgresql://kp@db2/kp`; a name is 1 to 32 lowercase
/// letters, digits, `-` and `_`, starting with a letter.
public final class DatabaseClusters: Sendable {
  /// One named cluster.
  public struct Cluster: Sendable, Hashable {
    /// The cluster's name, as recorded in each tenant's placement.
    public var name: String
    /// Where to connect, as a libpq URL or connection string.
    public var url: String

    /// Names a cluster.
    ///
    /// - Parameters:
    ///   - name: The cluster's name.
    ///   - url: Where to connect.
    public init(name: String, url: String) {
      self.name = name
      self.url = url
    }
  }

  /// The clusters, in the order configured.
  public let clusters: [Cluster]

  private let pools: [String: ConnectionPool]

  /// Makes a pool for each cluster; nothing connects until first use.
  ///
  /// - Parameters:
  ///   - clusters: The clusters; at least one, with distinct names.
  ///   - template: Pool settings shared by every cluster; its `url` and `name` are replaced.
  ///   - logger: Passed to each pool.
  /// - Throws: ``DatabaseError`` with code `invalidConfiguration` for an empty list, a bad name
  ///   or a duplicate.
  public init(
    clusters: [Cluster],
    template: ConnectionPoolConfiguration = ConnectionPoolConfiguration(url: ""),
    logger: Logger = .disabled
  ) throws(DatabaseError) {
    guard !clusters.isEmpty else {
      throw DatabaseError(
        code: .invalidConfiguration, message: "at least one database cluster is needed")
    }
    var pools: [String: ConnectionPool] = [:]
    for cluster in clusters {
      guard Self.isValidName(cluster.name) else {
        throw DatabaseError(
          code: .invalidConfiguration,
          message: "database cluster name '\(cluster.name)' is invalid: use 1 to 32 lowercase "
            + "letters, digits, '-' and '_', starting with a letter")
      }
      guard pools[cluster.name] == nil else {
        throw DatabaseError(
          code: .invalidConfiguration,
          message: "database cluster '\(cluster.name)' is listed twice")
      }
      var configuration = template
      configuration.url = cluster.url
      configuration.name = cluster.name
      pools[cluster.name] = ConnectionPool(configuration: configuration, logger: logger)
    }
    self.clusters = clusters
    self.pools = pools
  }

  /// Reads a list of clusters written as `name=url,name=url`.
  ///
  /// - Parameter text: The list. A URL may itself contain `=` (in its query string) but not
  ///   `,`.
  /// - Returns: The clusters, in order.
  /// - Throws: ``DatabaseError`` with code `invalidConfiguration` naming the entry that is
  ///   wrong.
  public static func parse(_ text: String) throws(DatabaseError) -> [Cluster] {
    var clusters: [Cluster] = []
    for entry in text.split(separator: ",", omittingEmptySubsequences: true) {
      let trimmed = entry.trimmingCharacters(in: .whitespaces)
      guard let equals = trimmed.firstIndex(of: "="),
        !trimmed[trimmed.index(after: equals)...].isEmpty
      else {
        throw DatabaseError(
          code: .invalidConfiguration,
          message: "database cluster entry '\(Self.redacted(trimmed))' is not of the form "
            + "name=url")
      }
      let name = String(trimmed[..<equals])
      let url = String(trimmed[trimmed.index(after: equals)...])
      clusters.append(Cluster(name: name, url: url))
    }
    return clusters
  }

  /// The names of the clusters, in the order configured.
  public var names: [String] { clusters.map(\.name) }

  /// The cluster holding the tenant registry: the first configured.
  public var registryClusterName: String { clusters[0].name }

  /// The pool of the cluster holding the tenant registry.
  public var registry: ConnectionPool { pools[registryClusterName]! }

  /// The pool of a cluster.
  ///
  /// - Parameter name: The cluster's name.
  /// - Returns: Its pool.
  /// - Throws: ``DatabaseError`` with code `unknownCluster` when no such cluster is configured.
  public func pool(_ name: String) throws(DatabaseError) -> ConnectionPool {
    guard let pool = pools[name] else {
      throw DatabaseError(
        code: .unknownCluster,
        message: "no database cluster named '\(name.prefix(40))' is configured; known: "
          + names.joined(separator: ", "))
    }
    return pool
  }

  /// Closes every pool.
  public func close() {
    for pool in pools.values { pool.close() }
  }

  private static func isValidName(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    guard let first = bytes.first, bytes.count <= 32,
      (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first)
    else { return false }
    return bytes.allSatisfy {
      (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
        || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
    }
  }

  /// An entry with any password removed, safe for an error message.
  private static func redacted(_ entry: String) -> String {
    guard let at = entry.lastIndex(of: "@"), let scheme = entry.range(of: "://") else {
      return String(entry.prefix(40))
    }
    return entry[..<scheme.upperBound] + "…" + entry[at...]
  }
}
