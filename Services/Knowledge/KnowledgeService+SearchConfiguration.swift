import KPDatabase
import KPProtocol
import KPRPC

extension KnowledgeService {
  /// The settings key holding the tenant's text-search configuration.
  static let searchConfigurationKey = "text_search_config"

  /// Sets the tenant's text-search configuration and indexes every stored chunk again with it.
  ///
  /// The chunks table is locked against writes first, so an upsert running at the same time
  /// either commits before the chunks are indexed again (and is indexed with them) or waits
  /// and reads the new setting. Searches keep reading the old index until the commit.
  func setSearchConfiguration(
    _ request: Kp_Knowledge_V1_SetSearchConfigurationRequest, _ context: ServerContext
  ) async throws(KnowledgeError) -> Kp_Knowledge_V1_SetSearchConfigurationResponse {
    let caller = try Caller(context)
    let name = request.configuration
    guard !name.isEmpty, name.utf8.count <= 63,
      name.unicodeScalars.allSatisfy({ $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic) })
    else {
      throw KnowledgeError(
        .invalidArgument, "configuration must be a name such as 'english' or 'simple'")
    }

    let key = Self.searchConfigurationKey
    let outcome = try await inTenant(caller.tenantID) { transaction in
      let known = try transaction.query(
        "SELECT string_agg(cfgname::text, ', ' ORDER BY cfgname) AS names, "
          + "bool_or(cfgname = $1) AS found FROM pg_catalog.pg_ts_config "
          + "WHERE cfgnamespace = 'pg_catalog'::regnamespace",
        [name])
      guard known.first?["found"] == "t" else {
        throw KnowledgeError(
          .invalidArgument,
          "no text-search configuration '\(name)'; use one of: \(known.first?["names"] ?? "")")
      }

      try transaction.execute("LOCK TABLE chunks IN SHARE ROW EXCLUSIVE MODE")
      try transaction.query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) "
          + "DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        [key, name])
      let reindexed = try transaction.query(
        "UPDATE chunks SET search_config = ('pg_catalog.' || $1)::regconfig "
          + "WHERE search_config <> ('pg_catalog.' || $1)::regconfig",
        [name])
      return reindexed.affectedRowCount ?? 0
    }
    logger.info(
      "search configuration set",
      [
        "tenant": caller.tenantID, "trace_id": context.traceID, "configuration": name,
        "chunks": "\(outcome)",
      ])
    var response = Kp_Knowledge_V1_SetSearchConfigurationResponse()
    response.configuration = name
    response.chunksReindexed = UInt64(outcome)
    return response
  }
}
