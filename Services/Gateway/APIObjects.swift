import KPProtocol

/// The JSON shapes of the API's objects, made from the internal services' messages.
///
/// Optional fields that are absent are omitted, never null; times are RFC 3339 in UTC.
enum APIObjects {
  /// Role names and their wire values.
  static let roles: [(String, Kp_Auth_V1_Role)] = [
    ("owner", .owner), ("admin", .admin), ("editor", .editor), ("member", .member),
    ("viewer", .viewer),
  ]

  /// The wire role of a role name.
  static func role(named name: String) -> Kp_Auth_V1_Role? {
    roles.first { $0.0 == name }?.1
  }

  /// The name of a wire role.
  static func roleName(_ role: Kp_Auth_V1_Role) -> String {
    roles.first { $0.1 == role }?.0 ?? (role == .platformAdmin ? "platform-admin" : "member")
  }

  /// A tenant state's name.
  static func stateName(_ state: Kp_Tenants_V1_TenantState) -> String {
    switch state {
    case .provisioning: "provisioning"
    case .active: "active"
    case .suspended: "suspended"
    case .deleting: "deleting"
    default: "provisioning"
    }
  }

  /// Sets `key` to a time when `micros` is not 0.
  static func time(_ object: inout [String: Any], _ key: String, _ micros: Int64) {
    if let text = Timestamps.format(micros: micros) { object[key] = text }
  }

  /// A Tenant.
  static func tenant(
    _ tenant: Kp_Tenants_V1_Tenant, quotas: Kp_Tenants_V1_Quotas? = nil,
    usage: Kp_Tenants_V1_Usage? = nil
  ) -> [String: Any] {
    var object: [String: Any] = [
      "id": tenant.id, "slug": tenant.slug, "name": tenant.displayName, "plan": tenant.planId,
      "status": stateName(tenant.state),
      "created_at": Timestamps.format(micros: tenant.createdAtMicros) ?? "1970-01-01T00:00:00Z",
    ]
    if !tenant.suspendedReason.isEmpty { object["suspended_reason"] = tenant.suspendedReason }
    if let quotas {
      object["quotas"] = [
        "requests_per_second": quotas.requestsPerSecond, "burst": quotas.burst,
        "max_documents": quotas.maxDocuments, "max_stored_bytes": quotas.maxStoredBytes,
        "max_document_bytes": quotas.maxDocumentBytes,
      ]
    }
    if let usage {
      object["usage"] = ["documents": usage.documents, "stored_bytes": usage.storedBytes]
    }
    return object
  }

  /// A User, without any password hash.
  static func user(_ user: Kp_Auth_V1_User) -> [String: Any] {
    [
      "id": user.id, "tenant_id": user.tenantId, "email": user.email, "name": user.displayName,
      "role": roleName(user.role), "groups": user.groups, "disabled": user.disabled,
      "created_at": Timestamps.format(micros: user.createdAtMicros) ?? "1970-01-01T00:00:00Z",
    ]
  }

  /// An API key, without its secret.
  static func apiKey(_ key: Kp_Auth_V1_ApiKey) -> [String: Any] {
    var object: [String: Any] = [
      "id": key.id, "name": key.name, "scopes": key.scopes, "prefix": key.prefix,
      "revoked": key.revoked,
      "created_at": Timestamps.format(micros: key.createdAtMicros) ?? "1970-01-01T00:00:00Z",
    ]
    time(&object, "expires_at", key.expiresAtMicros)
    time(&object, "last_used_at", key.lastUsedAtMicros)
    return object
  }

  /// The token pair a sign-in or refresh answers with.
  static func tokens(_ pair: Kp_Auth_V1_TokenPair, now: Int64) -> [String: Any] {
    let seconds = max(0, (pair.accessExpiresAtMicros - now) / 1_000_000)
    return [
      "access_token": pair.accessToken, "refresh_token": pair.refreshToken,
      "token_type": "Bearer", "expires_in": seconds,
    ]
  }

  /// An access list.
  static func acl(_ access: Kp_Knowledge_V1_AccessList?) -> [String: Any] {
    guard let access else { return ["tenant_wide": false, "users": [], "groups": []] }
    if access.tenantWide { return ["tenant_wide": true] }
    return ["tenant_wide": false, "users": access.users, "groups": access.groups]
  }

  /// A stored document with its text and chunks.
  static func document(_ document: Kp_Knowledge_V1_Document) -> [String: Any] {
    var object: [String: Any] = [
      "document_id": document.id, "source": document.source,
      "external_id": document.externalId, "title": document.title, "url": document.url,
      "content_type": document.contentType, "text": document.text,
      "acl": acl(document.access), "version": document.version,
      "content_hash": document.contentHash.map { String(format: "%02x", $0) }.joined(),
      "chunks": document.chunks.map { chunk in
        ["heading_path": chunk.headingPath, "text": chunk.text] as [String: Any]
      },
    ]
    object["modified_at"] =
      Timestamps.format(micros: document.modifiedAtMicros) ?? "1970-01-01T00:00:00Z"
    return object
  }

  /// An ingest job's state name.
  static func jobState(_ state: Kp_Ingest_V1_JobState) -> String {
    switch state {
    case .running: "running"
    case .succeeded: "succeeded"
    case .partiallyFailed: "partially_failed"
    case .failed: "failed"
    default: "queued"
    }
  }

  /// An ingest job.
  static func job(_ job: Kp_Ingest_V1_Job) -> [String: Any] {
    var object: [String: Any] = [
      "job_id": job.id, "state": jobState(job.state), "total": job.total,
      "processed": job.processed, "stored": job.stored, "unchanged": job.unchanged,
      "failed": job.failed,
      "errors": job.errors.map { error in
        ["external_id": error.externalId, "code": error.code, "message": error.message]
      },
      "submitted_at": Timestamps.format(micros: job.submittedAtMicros) ?? "1970-01-01T00:00:00Z",
    ]
    time(&object, "finished_at", job.finishedAtMicros)
    return object
  }

  /// An audit event.
  static func auditEvent(_ event: Kp_Auth_V1_AuditEvent) -> [String: Any] {
    [
      "id": "\(event.id)",
      "at": Timestamps.format(micros: event.atMicros) ?? "1970-01-01T00:00:00Z",
      "actor": event.actor, "action": event.action, "target": event.target,
      "source": event.source, "outcome": event.outcome, "detail": event.detail,
    ]
  }

  /// A list page.
  static func page(_ items: [[String: Any]], next: String) -> [String: Any] {
    var object: [String: Any] = ["items": items]
    if !next.isEmpty { object["next_page_token"] = next }
    return object
  }
}
