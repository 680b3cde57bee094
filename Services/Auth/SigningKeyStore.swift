import Foundation
import KPDatabase
import KPLogging
import KPTokens
import Synchronization

/// The signing keys of every kp-auth replica, kept in the registry's database (`kp_auth`
/// schema) with private keys sealed, and rotated on a schedule.
///
/// A new key is published ``publishAhead`` before it starts signing, so every verifier has
/// it before the first token it signs; the key it replaces retires at that moment and keeps
/// verifying until its last token expires, after which its row is deleted. Each replica reloads
/// the keys every ``reloadInterval``; rotation takes an advisory lock, so one replica rotates.
final class SigningKeyStore: Sendable {
  private struct Row: Sendable {
    let keyID: String
    let privateKey: Ed25519PrivateKey
    let activatedAt: Date
  }

  private struct Loaded: Sendable {
    var ring: SigningKeyRing
    var published: SigningKeySet
  }

  let pool: ConnectionPool
  let sealer: KeySealer
  /// How long a key signs before the next one takes over. Default: one day.
  let rotationInterval: TimeInterval
  /// How often each replica reloads the keys. Default: one minute.
  let reloadInterval: TimeInterval
  private let logger: Logger
  private let loaded = Mutex<Loaded?>(nil)

  /// How long before it signs a new key is published: two reload intervals.
  var publishAhead: TimeInterval { 2 * reloadInterval }

  init(
    pool: ConnectionPool, sealer: KeySealer, rotationInterval: TimeInterval = 86_400,
    reloadInterval: TimeInterval = 60, logger: Logger = .disabled
  ) {
    self.pool = pool
    self.sealer = sealer
    self.rotationInterval = rotationInterval
    self.reloadInterval = reloadInterval
    self.logger = logger
  }

  /// Creates the `kp_auth` schema and its table when missing.
  func install() async throws {
    try await pool.withTransaction { transaction in
      try transaction.query("SELECT pg_advisory_xact_lock(hashtext('kp_auth install'))")
      try transaction.execute(
        """
        CREATE SCHEMA IF NOT EXISTS kp_auth;
        REVOKE ALL ON SCHEMA kp_auth FROM PUBLIC;
        CREATE TABLE IF NOT EXISTS kp_auth.signing_keys (
          key_id text PRIMARY KEY,
          sealed_private_key bytea NOT NULL,
          public_key bytea NOT NULL,
          activated_at timestamptz NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now()
        );
        """)
    }
  }

  /// Loads the keys, rotating first when the newest key is due for replacement (or there is
  /// none), and deleting keys whose tokens have all expired.
  ///
  /// - Parameter now: The current time.
  func refresh(now: Date = Date()) async throws {
    var rows = try await load()
    let newest = rows.last?.activatedAt ?? .distantPast
    if rows.isEmpty || newest.addingTimeInterval(rotationInterval) <= now {
      try await rotate(now: now, immediately: rows.isEmpty, force: false)
      rows = try await load()
    }
    try install(rows, now: now)
    try await prune(rows, now: now)
  }

  /// Makes a new key now, ahead of schedule (for example, after a suspected compromise):
  /// it signs from the moment it is published.
  func rotateNow(now: Date = Date()) async throws {
    try await rotate(now: now, immediately: true, force: true)
    try install(try await load(), now: now)
  }

  /// The ring that signs, as last loaded.
  func ring() throws(AuthError) -> SigningKeyRing {
    guard let ring = loaded.withLock({ $0?.ring }) else {
      throw AuthError(.unavailable, "the signing keys are not loaded yet; try again")
    }
    return ring
  }

  /// The public keys verifiers need: the active key, keys about to sign, and retired keys
  /// whose tokens may still be alive.
  var verificationKeys: SigningKeySet {
    loaded.withLock { $0?.published } ?? SigningKeySet()
  }

  /// Reloads (and rotates when due) every ``reloadInterval`` until the task is cancelled.
  func run() async {
    while !Task.isCancelled {
      do {
        try await Task.sleep(for: .seconds(reloadInterval))
      } catch {
        return
      }
      do {
        try await refresh()
      } catch {
        logger.warning("signing key reload failed", ["error": "\(error)"])
      }
    }
  }

  // MARK: - Storage

  private func load() async throws -> [Row] {
    let stored = try await pool.withConnection { connection in
      try connection.query(
        "SELECT key_id, sealed_private_key, \(PostgresValues.microsSQL("activated_at")) AS at "
          + "FROM kp_auth.signing_keys ORDER BY activated_at, key_id")
    }
    var rows: [Row] = []
    for row in stored {
      let keyID = row["key_id"].flatMap { $0 } ?? ""
      guard let sealed = PostgresValues.bytes(row["sealed_private_key"]),
        let micros = Int64(row["at"] ?? "")
      else {
        throw AuthError(.internalFailure, "signing key \(keyID) is stored malformed")
      }
      var raw = try sealer.open(sealed, context: keyID)
      defer {
        for index in raw.indices { raw[index] = 0 }
      }
      let key = try Ed25519PrivateKey(rawRepresentation: raw)
      rows.append(
        Row(
          keyID: keyID, privateKey: key,
          activatedAt: Date(timeIntervalSince1970: Double(micros) / 1_000_000)))
    }
    return rows
  }

  /// Stores a new key, unless (without `force`) another replica made one recently enough.
  private func rotate(now: Date, immediately: Bool, force: Bool) async throws {
    let ring = try SigningKeyRing.generate(now: now)
    let keyID = ring.active.keyID
    let sealed = try sealer.seal(ring.active.privateKey.rawRepresentation, context: keyID)
    let publicKey = ring.active.privateKey.publicKey.derRepresentation
    let activation = immediately ? now : now.addingTimeInterval(publishAhead)
    let rotation = rotationInterval
    let inserted = try await pool.withTransaction { transaction in
      try transaction.query("SELECT pg_advisory_xact_lock(hashtext('kp_auth rotate'))")
      // Another replica may have rotated while this one waited for the lock.
      let newest = try transaction.query(
        "SELECT \(PostgresValues.microsSQL("max(activated_at)")) AS at FROM kp_auth.signing_keys")
      if !force, let micros = newest.first?["at"].flatMap({ Int64($0) }),
        Date(timeIntervalSince1970: Double(micros) / 1_000_000).addingTimeInterval(rotation)
          > now
      {
        return false
      }
      try transaction.query(
        "INSERT INTO kp_auth.signing_keys (key_id, sealed_private_key, public_key, activated_at) "
          + "VALUES ($1, $2, $3, \(PostgresValues.timestampSQL(4)))",
        [
          keyID, PostgresValues.bytea(sealed), PostgresValues.bytea(publicKey),
          PostgresValues.timestamp(activation),
        ])
      return true
    }
    if inserted {
      logger.notice("signing key created", ["key_id": keyID, "activates_at": "\(activation)"])
    }
  }

  /// Builds the ring and the published set from the stored keys as of `now`.
  private func install(_ rows: [Row], now: Date) throws(AuthError) {
    // Stored times have microsecond precision: allow a millisecond of rounding.
    let horizon = now.addingTimeInterval(0.001)
    let started = rows.filter { $0.activatedAt <= horizon }
    let pending = rows.filter { $0.activatedAt > horizon }
    guard let active = started.last ?? rows.first else {
      throw AuthError(.unavailable, "no signing key is stored")
    }
    var retired: [SigningKeySet.Key] = []
    for (index, row) in started.enumerated() where row.keyID != active.keyID {
      let next = started[index + 1]
      retired.append(
        SigningKeySet.Key(
          keyID: row.keyID, publicKey: row.privateKey.publicKey, retiredAt: next.activatedAt))
    }
    var ring = SigningKeyRing(
      active: SigningKeyRing.ActiveKey(
        keyID: active.keyID, privateKey: active.privateKey, activatedAt: active.activatedAt),
      retired: retired)
    ring.pruneExpired(now: now)
    var published = ring.verificationKeys
    for row in pending where row.keyID != active.keyID {
      published.insert(SigningKeySet.Key(keyID: row.keyID, publicKey: row.privateKey.publicKey))
    }
    loaded.withLock { $0 = Loaded(ring: ring, published: published) }
  }

  /// Deletes keys that retired long enough ago that every token they signed has expired.
  private func prune(_ rows: [Row], now: Date) async throws {
    let started = rows.filter { $0.activatedAt <= now }
    guard started.count > 1 else { return }
    var expired: [String] = []
    for index in 0..<(started.count - 1) {
      let retiredAt = started[index + 1].activatedAt
      if retiredAt.addingTimeInterval(AccessToken.maximumLifetime + AccessToken.defaultClockSkew)
        < now
      {
        expired.append(started[index].keyID)
      }
    }
    guard !expired.isEmpty else { return }
    let ids = PostgresValues.textArray(expired)
    try await pool.withConnection { connection in
      try connection.query("DELETE FROM kp_auth.signing_keys WHERE key_id = ANY($1::text[])", [ids])
    }
    logger.notice("retired signing keys deleted", ["key_ids": expired.joined(separator: ",")])
  }
}
