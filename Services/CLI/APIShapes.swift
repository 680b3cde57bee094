import Foundation

// The gateway's JSON answers, as `kp` reads them (docs/api.md, /v1/openapi.json). Fields the
// gateway may leave out are optional; names are the snake_case ones in camel case, converted by
// ``APIJSON``.

/// The JSON coders for the gateway's snake_case field names.
enum APIJSON {
  /// Decodes `access_token` into `accessToken`.
  static var decoder: JSONDecoder {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return decoder
  }

  /// Encodes `accessToken` as `access_token`, indented with sorted keys.
  static var encoder: JSONEncoder {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return encoder
  }
}

/// `{access_token, refresh_token, token_type, expires_in}`.
struct TokenResponse: Decodable {
  var accessToken: String
  var refreshToken: String
  var tokenType: String?
  var expiresIn: Int
}

/// `{items, next_page_token}`.
struct Page<Item: Decodable>: Decodable {
  var items: [Item]
  var nextPageToken: String?
}

/// A tenant.
struct TenantShape: Codable {
  struct Quotas: Codable {
    var requestsPerSecond: Int?
    var burst: Int?
    var maxDocuments: Int?
    var maxStoredBytes: Int?
    var maxDocumentBytes: Int?
  }

  struct Usage: Codable {
    var documents: Int?
    var storedBytes: Int?
  }

  var id: String
  var slug: String
  var name: String?
  var plan: String?
  var status: String?
  var createdAt: String?
  var suspendedReason: String?
  var quotas: Quotas?
  var usage: Usage?
}

/// A user of a tenant.
struct UserShape: Codable {
  var id: String
  var tenantId: String?
  var email: String
  var name: String?
  var role: String?
  var groups: [String]?
  var disabled: Bool?
  var createdAt: String?
}

/// An API key; `secret` only in the answer that creates it.
struct APIKeyShape: Codable {
  var id: String
  var name: String?
  var scopes: [String]?
  var prefix: String?
  var createdAt: String?
  var expiresAt: String?
  var lastUsedAt: String?
  var revoked: Bool?
  var secret: String?
}

/// The answer to an accepted batch.
struct SubmitShape: Codable {
  var jobId: String
  var accepted: Int?
  var duplicate: Bool?
}

/// An ingest job's status.
struct JobShape: Codable {
  struct DocumentError: Codable {
    var externalId: String?
    var code: String?
    var message: String?
  }

  var jobId: String
  var state: String
  var total: Int?
  var processed: Int?
  var stored: Int?
  var unchanged: Int?
  var failed: Int?
  var errors: [DocumentError]?
  var submittedAt: String?
  var finishedAt: String?

  /// Whether the job will change no more.
  var isFinished: Bool {
    ["succeeded", "partially_failed", "failed"].contains(state)
  }
}

/// One search hit.
struct SearchHitShape: Codable {
  var documentId: String
  var title: String?
  var url: String?
  var source: String?
  var snippet: String?
  var score: Double?
}

/// A page of search results.
struct SearchShape: Codable {
  var results: [SearchHitShape]
  var total: Int?
}

/// One audit-log event; the gateway sends its numeric id as a string.
struct AuditEventShape: Codable {
  var id: String?
  var at: String?
  var actor: String?
  var action: String?
  var target: String?
  var source: String?
  var outcome: String?
  var detail: String?
}

/// Per-tenant statistics.
struct StatsShape: Codable {
  struct Source: Codable {
    var source: String
    var documents: Int?
    var chunks: Int?
    var bytes: Int?
  }

  var documents: Int?
  var chunks: Int?
  var bytes: Int?
  var sources: [Source]?
}
