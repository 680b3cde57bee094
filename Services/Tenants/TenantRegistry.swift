import Foundation
import KPDatabase
import KPLogging
import KPRPC

/// The tenant registry's operations: creating, finding, suspending, resuming and deleting
/// tenants, and migrating their schemas, across every configured cluster.
///
/// Creating a tenant touches two databases when the tenant lands on a cluster other than the
/// registry's, so it runs in three steps, each repeatable: reserve the slug with a
/// `provisioning` row in the registry; create role, schema, tables and the cluster ledger row
/// in one transaction on the tenant's cluster; mark the tenant `active`. A create interrupted
/// anywhere is finished by retrying the same request, and rolled back by ``reconcile()`` when
/// no retry comes within ``provisioningTimeout``. A create that fails for a reason other than a
/// lost connection removes what it made before it answers.
final class TenantRegistry: Sendable {
  /// Where a create stands after the registry step.
  private enum Reservation: Sendable {
    case provision(id: String, cluster: String)
    case existing(id: String)
  }

  let clusters: DatabaseClusters
  let directory: TenantDirectory
  let migrator: TenantMigrator
  /// The schema version new tenants get and migrations aim for by default.
  let schemaVersion: Int
  /// A `provisioning` row older than this, with no retry, is rolled back by ``reconcile()``.
  let provisioningTimeout: Duration
  let logger: Logger

  init(
    clusters: DatabaseClusters, directory: TenantDirectory, migrator: TenantMigrator,
    schemaVersion: Int, provisioningTimeout: Duration, logger: Logger
  ) {
    self.clusters = clusters
    self.directory = directory
    self.migrator = migrator
    self.schemaVersion = min(schemaVersion, migrator.latestVersion)
    self.provisioningTimeout = provisioningTimeout
    self.logger = logger
  }

  private var registry: ConnectionPool { clusters.registry }

  // MARK: - Start-up

  /// Creates the registry and ledger tables where missing, then finishes or rolls back work
  /// that a crash left behind.
  func prepare() async throws {
    try await RegistrySchema.installRegistry(on: registry)
    for name in clusters.names {
      try await RegistrySchema.installLedger(on: try clusters.pool(name))
    }
    await reconcile()
  }

  /// Rolls back creates abandoned for longer than ``provisioningTimeout`` and finishes deletes
  /// that were interrupted.
  func reconcile() async {
    let seconds = Int(provisioningTimeout.components.seconds)
    let stale: [(id: String, state: String)]
    do {
      stale = try await registry.withConnection { connection in
        try connection.query(
          """
          SELECT id, state FROM kp_registry.tenants
          WHERE (state = 'provisioning' AND updated_at < now() - make_interval(secs => $1))
            OR state = 'deleting'
          """, ["\(seconds)"]
        ).map { ($0["id"] ?? "", $0["state"] ?? "") }
      }
    } catch {
      logger.warning("could not look for interrupted work", ["error": "\(error)"])
      return
    }
    for (id, state) in stale {
      do {
        if state == TenantState.provisioning.name {
          try await abandonProvisioning(id)
          logger.notice("rolled back an abandoned tenant create", ["tenant": id])
        } else {
          try await finishDeletion(id)
          logger.notice("finished an interrupted tenant delete", ["tenant": id])
        }
      } catch {
        logger.warning("could not reconcile a tenant", ["tenant": id, "error": "\(error)"])
      }
    }
  }

  // MARK: - Create

  /// Creates a tenant, or returns the one an identical earlier request created.
  func create(
    slug rawSlug: String, displayName rawName: String, planID rawPlan: String,
    cluster requestedCluster: String, idempotencyKey: String
  ) async throws -> TenantRecord {
    let slug = try SlugRules.validate(rawSlug)
    let displayName = try SlugRules.validateDisplayName(rawName)
    let planID = rawPlan.isEmpty ? "free" : rawPlan
    if !requestedCluster.isEmpty && !clusters.names.contains(requestedCluster) {
      throw RPCError(
        .invalidArgument,
        "cluster '\(requestedCluster.prefix(40))' is not configured; known: "
          + clusters.names.joined(separator: ", "))
    }
    guard idempotencyKey.utf8.count <= 200 else {
      throw RPCError(.invalidArgument, "idempotency_key is longer than 200 bytes")
    }

    let reservation = try await reserve(
      slug: slug, displayName: displayName, planID: planID, cluster: requestedCluster,
      idempotencyKey: idempotencyKey)

    switch reservation {
    case .existing(let id):
      return try await record(id: id)
    case .provision(let id, let cluster):
      try await provision(id: id, cluster: cluster)
      logger.info("tenant created", ["tenant": id, "cluster": cluster])
      return try await record(id: id)
    }
  }

  /// The registry step: finds an identical create to continue, or inserts a `provisioning`
  /// row on the least loaded cluster.
  private func reserve(
    slug: String, displayName: String, planID: String, cluster: String, idempotencyKey: String
  ) async throws -> Reservation {
    let candidates = clusters.names
    for attempt in 1...3 {
      do {
        return try await registry.withTransaction { transaction in
          let existing = try transaction.query(
            """
            SELECT id, display_name, plan_id, idempotency_key, state, cluster
            FROM kp_registry.tenants WHERE slug = $1 AND state <> 'deleted' FOR UPDATE
            """, [slug])
          if let row = existing.first {
            let same =
              row["display_name"] == displayName && row["plan_id"] == planID
              && row["idempotency_key"] == idempotencyKey
              && (cluster.isEmpty || row["cluster"] == cluster)
            guard same, let id = row["id"] else {
              throw RPCError(.alreadyExists, "a tenant with slug '\(slug)' already exists")
            }
            switch row["state"] {
            case TenantState.provisioning.name:
              return .provision(id: id, cluster: row["cluster"] ?? "")
            case TenantState.deleting.name:
              throw RPCError(
                .alreadyExists, "the tenant with slug '\(slug)' is being deleted; retry later")
            default:
              return .existing(id: id)
            }
          }

          let plans = try transaction.query(
            "SELECT 1 FROM kp_registry.plans WHERE id = $1", [planID])
          guard !plans.isEmpty else {
            throw RPCError(
              .invalidArgument,
              "plan '\(planID.prefix(40))' does not exist; the plans are "
                + (try Self.planIDs(transaction.query)).joined(separator: ", "))
          }
          let chosen =
            cluster.isEmpty ? try Self.leastLoaded(candidates, transaction) : cluster
          let id = TenantScope.newTenantID()
          try transaction.query(
            """
            INSERT INTO kp_registry.tenants
              (id, slug, display_name, plan_id, state, cluster, idempotency_key)
            VALUES ($1, $2, $3, $4, 'provisioning', $5, $6)
            """, [id, slug, displayName, planID, chosen, idempotencyKey])
          return .provision(id: id, cluster: chosen)
        }
      } catch let error as DatabaseError where error.sqlState == "23505" && attempt < 3 {
        // Another create inserted the same slug first; look again.
        continue
      }
    }
    throw RPCError(.aborted, "the slug '\(slug)' is contended; retry")
  }

  /// The cluster with the fewest tenants, first configured on a tie. Placement decisions are
  /// serialised so that concurrent creates spread out.
  private static func leastLoaded(
    _ names: [String], _ transaction: DatabaseTransaction
  ) throws -> String {
    guard names.count > 1 else { return names[0] }
    try transaction.query("SELECT pg_advisory_xact_lock(hashtext('kp tenant placement'))")
    let rows = try transaction.query(
      """
      SELECT cluster, count(*) AS tenants FROM kp_registry.tenants
      WHERE state <> 'deleted' GROUP BY cluster
      """)
    var load: [String: Int] = [:]
    for row in rows { load[row["cluster"] ?? ""] = Int(row["tenants"] ?? "") ?? 0 }
    return names.min { load[$0, default: 0] < load[$1, default: 0] } ?? names[0]
  }

  /// The cluster step and the activation. On a failure other than a lost connection, removes
  /// the tenant's traces before throwing.
  private func provision(id: String, cluster: String) async throws {
    let scope = try TenantScope(tenantID: id)
    let migrator = migrator
    let version = schemaVersion
    let reached: Int
    do {
      reached = try await clusters.pool(cluster).withTransaction { transaction in
        try migrator.provision(scope, atVersion: version, in: transaction)
      }
    } catch let error as DatabaseError where Self.isTransient(error) {
      throw RPCError(
        .unavailable, "the tenant's database is unreachable; retry the same request")
    } catch {
      logger.error("tenant provisioning failed", ["tenant": id, "error": "\(error)"])
      try? await abandonProvisioning(id)
      throw RPCError(.internalError, "provisioning the tenant failed; nothing was kept")
    }

    try await registry.withConnection { connection in
      try connection.query(
        """
        UPDATE kp_registry.tenants SET state = 'active', schema_version = $2, updated_at = now()
        WHERE id = $1 AND state = 'provisioning'
        """, [id, "\(reached)"])
    }
    directory.invalidate(id)
  }

  /// Removes a tenant that never became active: its schema and role, then its registry row.
  private func abandonProvisioning(_ id: String) async throws {
    let scope = try TenantScope(tenantID: id)
    let cluster = try await registry.withConnection { connection in
      try connection.query(
        "SELECT cluster FROM kp_registry.tenants WHERE id = $1 AND state = 'provisioning'", [id]
      ).first?["cluster"]
    }
    guard let cluster else { return }
    let migrator = migrator
    try await clusters.pool(cluster).withTransaction { transaction in
      try migrator.deprovision(scope, in: transaction)
    }
    try await registry.withConnection { connection in
      try connection.query(
        "DELETE FROM kp_registry.tenants WHERE id = $1 AND state = 'provisioning'", [id])
    }
    directory.invalidate(id)
  }

  // MARK: - Reading

  /// A tenant by id that has data (active or suspended); NOT_FOUND otherwise.
  func record(id: String) async throws -> TenantRecord {
    guard TenantScope.isValidTenantID(id), let record = try await directory.record(for: id),
      record.state.hasData
    else {
      throw Self.notFound
    }
    return record
  }

  /// A tenant by slug that has data; NOT_FOUND otherwise.
  func record(slug: String) async throws -> TenantRecord {
    let slug = slug.precomposedStringWithCanonicalMapping
    let row = try await registry.withConnection { connection in
      try connection.query(
        TenantRecord.selectSQL
          + " WHERE t.slug = $1 AND t.state IN ('active', 'suspended')", [slug]
      ).first
    }
    guard let row else { throw Self.notFound }
    return TenantRecord(row: row)
  }

  /// The tenant's usage counters, read in the tenant's own scope.
  func usage(of record: TenantRecord) async throws -> [String: Int] {
    let scope = try record.scope()
    let rows = try await clusters.pool(record.cluster).withTenant(scope) { transaction in
      try transaction.query("SELECT name, value FROM usage_counters")
    }
    var usage: [String: Int] = [:]
    for row in rows { usage[row["name"] ?? ""] = Int(row["value"] ?? "") ?? 0 }
    return usage
  }

  /// Tenants ordered by slug, after `afterSlug`, at most `limit`, in `state` or else in every
  /// state but provisioning and deleted.
  func list(
    afterSlug: String, limit: Int, state: TenantState?
  ) async throws -> [TenantRecord] {
    let rows = try await registry.withConnection { connection in
      if let state {
        return try connection.query(
          TenantRecord.selectSQL
            + " WHERE t.slug > $1 AND t.state = $2 ORDER BY t.slug LIMIT $3",
          [afterSlug, state.name, "\(limit)"])
      }
      return try connection.query(
        TenantRecord.selectSQL
          + """
           WHERE t.slug > $1 AND t.state NOT IN ('provisioning', 'deleted')
          ORDER BY t.slug LIMIT $2
          """, [afterSlug, "\(limit)"])
    }
    return rows.map(TenantRecord.init(row:))
  }

  /// The ids of the plans on offer, cheapest first, read with `query`.
  private static func planIDs(
    _ query: (String, [String?]) throws -> PostgresRows
  ) throws -> [String] {
    try query("SELECT id FROM kp_registry.plans ORDER BY requests_per_second, id", [])
      .compactMap { $0["id"] ?? nil }
  }

  /// The plans on offer.
  func plans() async throws -> [(id: String, name: String, quotas: TenantQuotas)] {
    let rows = try await registry.withConnection { connection in
      try connection.query(
        """
        SELECT id, display_name, requests_per_second, burst, max_documents, max_stored_bytes,
          max_document_bytes
        FROM kp_registry.plans ORDER BY requests_per_second, id
        """)
    }
    return rows.map { row in
      func number(_ column: String) -> Int { Int(row[column] ?? "") ?? 0 }
      return (
        row["id"] ?? "", row["display_name"] ?? "",
        TenantQuotas(
          requestsPerSecond: number("requests_per_second"), burst: number("burst"),
          maximumDocuments: number("max_documents"),
          maximumStoredBytes: number("max_stored_bytes"),
          maximumDocumentBytes: number("max_document_bytes"))
      )
    }
  }

  // MARK: - Suspend, resume, delete

  /// Moves a tenant between active and suspended; repeating the call changes nothing.
  func setSuspended(id: String, _ suspended: Bool, reason: String) async throws -> TenantRecord {
    guard TenantScope.isValidTenantID(id) else { throw Self.notFound }
    let from = suspended ? TenantState.active : .suspended
    let to = suspended ? TenantState.suspended : .active
    let state = try await registry.withConnection { connection -> String? in
      let rows = try connection.query(
        """
        UPDATE kp_registry.tenants SET state = $3, suspended_reason = $4, updated_at = now()
        WHERE id = $1 AND state = $2 RETURNING state
        """, [id, from.name, to.name, suspended ? String(reason.prefix(500)) : ""])
      if let state = rows.first?["state"] { return state }
      return try connection.query("SELECT state FROM kp_registry.tenants WHERE id = $1", [id])
        .first?["state"]
    }
    directory.invalidate(id)
    guard state == to.name else { throw Self.notFound }
    logger.info(suspended ? "tenant suspended" : "tenant resumed", ["tenant": id])
    return try await record(id: id)
  }

  /// Moves an active or suspended tenant to another plan.
  ///
  /// - Throws: INVALID_ARGUMENT for a plan that does not exist; NOT_FOUND for a tenant that
  ///   does not exist, or is being provisioned or deleted.
  func changePlan(id: String, to plan: String) async throws -> TenantRecord {
    guard TenantScope.isValidTenantID(id) else { throw Self.notFound }
    let outcome = try await registry.withConnection { connection -> (plan: Bool, tenant: Bool) in
      guard
        !(try connection.query("SELECT 1 FROM kp_registry.plans WHERE id = $1", [plan]))
          .isEmpty
      else { return (false, false) }
      let updated = try connection.query(
        """
        UPDATE kp_registry.tenants SET plan_id = $2, updated_at = now()
        WHERE id = $1 AND state IN ('active', 'suspended') RETURNING id
        """, [id, plan])
      return (true, !updated.isEmpty)
    }
    guard outcome.plan else {
      let known = try await registry.withConnection { try Self.planIDs($0.query) }
      throw RPCError(
        .invalidArgument,
        "plan '\(plan.prefix(40))' does not exist; the plans are "
          + known.joined(separator: ", "))
    }
    directory.invalidate(id)
    guard outcome.tenant else { throw Self.notFound }
    logger.info("tenant plan changed", ["tenant": id, "plan": plan])
    return try await record(id: id)
  }

  /// Deletes a tenant's schema, role and every row, leaving a tombstone in the registry.
  /// Repeating the call for a deleted tenant succeeds.
  func delete(id: String, confirmSlug: String) async throws {
    guard TenantScope.isValidTenantID(id) else { throw Self.notFound }
    let row = try await registry.withConnection { connection in
      try connection.query("SELECT slug, state FROM kp_registry.tenants WHERE id = $1", [id])
        .first
    }
    guard let row, let state = row["state"], state != TenantState.provisioning.name else {
      throw Self.notFound
    }
    if state == TenantState.deleted.name { return }
    guard row["slug"] == confirmSlug.precomposedStringWithCanonicalMapping else {
      throw RPCError(
        .failedPrecondition, "confirm_slug does not match the tenant's slug; nothing was deleted")
    }

    try await registry.withConnection { connection in
      try connection.query(
        """
        UPDATE kp_registry.tenants SET state = 'deleting', updated_at = now()
        WHERE id = $1 AND state IN ('active', 'suspended')
        """, [id])
    }
    directory.invalidate(id)
    try await finishDeletion(id)
    logger.info("tenant deleted", ["tenant": id])
  }

  /// Drops a `deleting` tenant's schema and role, then turns its row into a tombstone.
  private func finishDeletion(_ id: String) async throws {
    let scope = try TenantScope(tenantID: id)
    let cluster = try await registry.withConnection { connection in
      try connection.query(
        "SELECT cluster FROM kp_registry.tenants WHERE id = $1 AND state = 'deleting'", [id]
      ).first?["cluster"]
    }
    guard let cluster else { return }
    let migrator = migrator
    try await clusters.pool(cluster).withTransaction { transaction in
      try migrator.deprovision(scope, in: transaction)
    }
    try await registry.withConnection { connection in
      try connection.query(
        """
        UPDATE kp_registry.tenants SET state = 'deleted', deleted_at = now(), updated_at = now(),
          display_name = '', idempotency_key = '', suspended_reason = '',
          override_requests_per_second = NULL, override_burst = NULL,
          override_max_documents = NULL, override_max_stored_bytes = NULL,
          override_max_document_bytes = NULL
        WHERE id = $1 AND state = 'deleting'
        """, [id])
    }
    directory.invalidate(id)
  }

  // MARK: - Migrations

  /// Brings tenants' schemas to `version` (0: this instance's ``schemaVersion``), `concurrency`
  /// at a time, reporting each tenant; mirrors each tenant's version into the registry.
  func migrate(
    tenantIDs: [String], version: Int, concurrency: Int,
    progress: @escaping @Sendable (TenantMigrationProgress) async -> Void
  ) async throws -> TenantMigrationProgress {
    let target = version == 0 ? schemaVersion : min(version, migrator.latestVersion)
    let rows = try await registry.withConnection { connection in
      try connection.query(
        """
        SELECT id, cluster FROM kp_registry.tenants
        WHERE state IN ('active', 'suspended')
          AND (cardinality($1::text[]) = 0 OR id = ANY($1::text[]))
        ORDER BY id
        """, ["{" + tenantIDs.filter(TenantScope.isValidTenantID).joined(separator: ",") + "}"])
    }
    var targets: [TenantMigrator.Target] = []
    for row in rows {
      targets.append(
        TenantMigrator.Target(
          scope: try TenantScope(tenantID: row["id"] ?? ""),
          pool: try clusters.pool(row["cluster"] ?? "")))
    }
    logger.notice(
      "migrating tenants",
      ["tenants": "\(targets.count)", "version": "\(target)", "concurrency": "\(concurrency)"])

    let registry = registry
    let logger = logger
    let summary = await migrator.migrateAll(
      targets, to: target, concurrency: concurrency
    ) { report in
      if report.error.isEmpty {
        _ = try? await registry.withConnection { connection in
          try connection.query(
            """
            UPDATE kp_registry.tenants SET schema_version = $2
            WHERE id = $1 AND schema_version <> $2
            """, [report.tenantID, "\(report.schemaVersion)"])
        }
        logger.info(
          "tenant migrated",
          [
            "tenant": report.tenantID, "version": "\(report.schemaVersion)",
            "done": "\(report.migratedTenants + report.failedTenants)/\(report.totalTenants)",
          ])
      } else {
        logger.error("tenant migration failed", ["tenant": report.tenantID, "error": report.error])
      }
      await progress(report)
    }
    logger.notice(
      "migration finished",
      ["migrated": "\(summary.migratedTenants)", "failed": "\(summary.failedTenants)"])
    return summary
  }

  // MARK: - Helpers

  static let notFound = RPCError(.notFound, "no such tenant")

  /// Whether a database error may pass with a retry (the connection, not the statement).
  static func isTransient(_ error: DatabaseError) -> Bool {
    error.code == .connectionFailed || error.code == .connectionClosed
      || error.code == .poolTimeout || error.code == .poolClosed
  }
}
