import Foundation

/// The OpenAPI 3 description of the REST API, served at `/v1/openapi.json`.
///
/// Every operation documents its success answer and, as `default`, the error body; request
/// bodies and parameters carry the same limits the handlers check.
enum OpenAPIDocument {
  /// The document, encoded once.
  static let encoded: [UInt8] = {
    let data = try? JSONSerialization.data(
      withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
    return Array(data ?? Data("{}".utf8))
  }()

  /// The document as a JSON object.
  static var document: [String: Any] {
    [
      "openapi": "3.0.3",
      "info": [
        "title": "KnowledgePlane API", "version": "1",
        "description":
          "The external API of KnowledgePlane. Send 'Authorization: Bearer <access token or "
          + "API key>'. Errors are {\"error\": {\"code\", \"message\", \"request_id\"}}.",
      ],
      "servers": [["url": "/"]],
      "components": ["schemas": schemas, "securitySchemes": securitySchemes],
      "security": [["bearer": [String]()]],
      "paths": paths,
    ]
  }

  // MARK: Building blocks

  private static func ref(_ name: String) -> [String: Any] {
    ["$ref": "#/components/schemas/\(name)"]
  }

  private static func string(_ extra: [String: Any] = [:]) -> [String: Any] {
    extra.merging(["type": "string"]) { $1 }
  }

  private static var integer: [String: Any] { ["type": "integer", "minimum": 0] }
  private static var boolean: [String: Any] { ["type": "boolean"] }
  private static var time: [String: Any] { ["type": "string", "format": "date-time"] }
  private static var strings: [String: Any] { ["type": "array", "items": ["type": "string"]] }

  private static func object(
    _ properties: [String: Any], required: [String] = []
  ) -> [String: Any] {
    var object: [String: Any] = ["type": "object", "properties": properties]
    if !required.isEmpty { object["required"] = required }
    return object
  }

  private static func page(_ item: String) -> [String: Any] {
    object(
      ["items": ["type": "array", "items": ref(item)], "next_page_token": string()],
      required: ["items"])
  }

  private static var securitySchemes: [String: Any] {
    [
      "bearer": [
        "type": "http", "scheme": "bearer",
        "description": "An access token from /v1/auth/login or an API key.",
      ]
    ]
  }

  // MARK: Schemas

  private static var schemas: [String: Any] {
    [
      "Error": object(
        [
          "error": object(
            ["code": string(), "message": string(), "request_id": string()],
            required: ["code", "message"])
        ], required: ["error"]),
      "Quotas": object([
        "requests_per_second": integer, "burst": integer, "max_documents": integer,
        "max_stored_bytes": integer, "max_document_bytes": integer,
      ]),
      "Tenant": object(
        [
          "id": string(), "slug": string(), "name": string(), "plan": string(),
          "status": string(["enum": ["provisioning", "active", "suspended", "deleting"]]),
          "created_at": time, "suspended_reason": string(), "quotas": ref("Quotas"),
          "usage": object(["documents": integer, "stored_bytes": integer]),
        ], required: ["id", "slug", "name", "plan", "status", "created_at"]),
      "TenantPage": page("Tenant"),
      "User": object(
        [
          "id": string(), "tenant_id": string(), "email": string(), "name": string(),
          "role": string(["enum": ["owner", "admin", "editor", "member", "viewer"]]),
          "groups": strings, "disabled": boolean, "created_at": time,
        ], required: ["id", "tenant_id", "email", "role", "groups", "disabled", "created_at"]),
      "UserPage": page("User"),
      "Tokens": object(
        [
          "access_token": string(), "refresh_token": string(),
          "token_type": string(["enum": ["Bearer"]]), "expires_in": integer,
        ], required: ["access_token", "refresh_token", "token_type", "expires_in"]),
      "ApiKey": object(
        [
          "id": string(), "name": string(), "scopes": strings, "prefix": string(),
          "created_at": time, "expires_at": time, "last_used_at": time, "revoked": boolean,
          "secret": string(),
        ], required: ["id", "name", "scopes", "prefix", "created_at", "revoked"]),
      "ApiKeyPage": page("ApiKey"),
      "IngestAccepted": object(
        ["job_id": string(), "accepted": integer, "duplicate": boolean],
        required: ["job_id", "accepted", "duplicate"]),
      "Job": object(
        [
          "job_id": string(),
          "state": string([
            "enum": ["queued", "running", "succeeded", "partially_failed", "failed"]
          ]),
          "total": integer, "processed": integer, "stored": integer, "unchanged": integer,
          "failed": integer,
          "errors": [
            "type": "array",
            "items": object(["external_id": string(), "code": string(), "message": string()]),
          ],
          "submitted_at": time, "finished_at": time,
        ], required: ["job_id", "state", "total", "errors"]),
      "Acl": object(["tenant_wide": boolean, "users": strings, "groups": strings]),
      "Document": object(
        [
          "document_id": string(), "source": string(), "external_id": string(),
          "title": string(), "url": string(), "content_type": string(), "text": string(),
          "acl": ref("Acl"), "modified_at": time, "version": integer, "content_hash": string(),
          "chunks": [
            "type": "array", "items": object(["heading_path": strings, "text": string()]),
          ],
        ], required: ["document_id", "source", "external_id", "title", "text"]),
      "SearchResults": object(
        [
          "results": [
            "type": "array",
            "items": object(
              [
                "document_id": string(), "title": string(), "url": string(),
                "source": string(),
                "snippet": string([
                  "description":
                    "HTML: the text escaped, matching words in <mark>...</mark>, nothing else."
                ]),
                "score": ["type": "number"],
              ], required: ["document_id", "title", "score"]),
          ],
          "total": integer,
        ], required: ["results", "total"]),
      "Stats": object(
        [
          "documents": integer, "chunks": integer, "bytes": integer,
          "sources": [
            "type": "array",
            "items": object([
              "source": string(), "documents": integer, "chunks": integer, "bytes": integer,
            ]),
          ],
        ], required: ["documents", "chunks", "bytes", "sources"]),
      "AuditEvent": object(
        [
          "id": string(), "at": time, "actor": string(), "action": string(),
          "target": string(), "source": string(), "outcome": string(), "detail": string(),
        ], required: ["id", "at", "actor", "action"]),
      "AuditPage": page("AuditEvent"),
      "Health": object(["status": string()], required: ["status"]),
      "Ready": object(
        [
          "status": string(),
          "dependencies": ["type": "object", "additionalProperties": ["type": "string"]],
        ], required: ["status", "dependencies"]),
      "IngestDocument": object(
        [
          "source": string(["minLength": 1]), "external_id": string(["minLength": 1]),
          "title": string(), "url": string(), "content_type": string(), "content": string(),
          "content_base64": string(), "acl": ref("Acl"), "modified_at": time,
          "delete": boolean,
        ], required: ["source", "external_id"]),
    ]
  }

  // MARK: Operations

  private static func json(_ schema: [String: Any]) -> [String: Any] {
    ["application/json": ["schema": schema]]
  }

  private static func operation(
    _ id: String, _ summary: String, status: String, response: String?,
    body: [String: Any]? = nil, parameters: [[String: Any]] = [], open: Bool = false
  ) -> [String: Any] {
    var success: [String: Any] = ["description": summary]
    if let response { success["content"] = json(ref(response)) }
    var operation: [String: Any] = [
      "operationId": id, "summary": summary,
      "responses": [
        status: success,
        "default": ["description": "An error.", "content": json(ref("Error"))],
      ],
    ]
    if let body {
      operation["requestBody"] = ["required": true, "content": json(body)]
    }
    if !parameters.isEmpty { operation["parameters"] = parameters }
    if open { operation["security"] = [[String: Any]]() }
    return operation
  }

  private static func path(_ name: String) -> [String: Any] {
    ["name": name, "in": "path", "required": true, "schema": string(["minLength": 1])]
  }

  private static func query(
    _ name: String, _ schema: [String: Any], required: Bool = false
  ) -> [String: Any] {
    ["name": name, "in": "query", "required": required, "schema": schema]
  }

  private static var listParameters: [[String: Any]] {
    [
      query("limit", ["type": "integer", "minimum": 1, "maximum": 1000]),
      query("page_token", string()),
    ]
  }

  private static var paths: [String: Any] {
    [
      "/healthz": [
        "get": operation("healthz", "Liveness.", status: "200", response: "Health", open: true)
      ],
      "/readyz": [
        "get": operation(
          "readyz", "Readiness: every internal service reachable.", status: "200",
          response: "Ready", open: true)
      ],
      "/v1/openapi.json": [
        "get": [
          "operationId": "openapi", "summary": "This document.", "security": [[String: Any]](),
          "responses": [
            "200": [
              "description": "The OpenAPI document.",
              "content": ["application/json": ["schema": ["type": "object"]]],
            ]
          ],
        ]
      ],
      "/v1/auth/login": [
        "post": operation(
          "login", "Sign in; an empty tenant signs in the platform administrator.",
          status: "200", response: "Tokens",
          body: object(
            ["tenant": string(), "email": string(), "password": string()],
            required: ["email", "password"]), open: true)
      ],
      "/v1/auth/refresh": [
        "post": operation(
          "refresh", "Rotate a refresh token.", status: "200", response: "Tokens",
          body: object(["refresh_token": string()], required: ["refresh_token"]), open: true)
      ],
      "/v1/auth/logout": [
        "post": operation(
          "logout", "Revoke a refresh token.", status: "204", response: nil,
          body: object(["refresh_token": string()]))
      ],
      "/v1/tenants": [
        "post": operation(
          "createTenant", "Create a tenant (platform administrator).", status: "201",
          response: "Tenant",
          body: object(
            ["slug": string(), "name": string(), "plan": string()],
            required: ["slug", "name", "plan"])),
        "get": operation(
          "listTenants", "List tenants (platform administrator).", status: "200",
          response: "TenantPage", parameters: listParameters),
      ],
      "/v1/tenants/{slug}": [
        "get": operation(
          "getTenant", "One tenant with quotas and usage.", status: "200", response: "Tenant",
          parameters: [path("slug")]),
        "patch": operation(
          "updateTenant", "Suspend, resume or change the plan of a tenant.", status: "200",
          response: "Tenant",
          body: object([
            "status": string(["enum": ["suspended", "active"]]), "plan": string(),
            "reason": string(),
          ]), parameters: [path("slug")]),
        "delete": operation(
          "deleteTenant", "Delete a tenant with all its data.", status: "204", response: nil,
          parameters: [path("slug")]),
      ],
      "/v1/tenants/{slug}/users": [
        "post": operation(
          "createUser", "Add a user (platform or tenant administrator).", status: "201",
          response: "User",
          body: object(
            [
              "email": string(), "password": string(),
              "role": string(["enum": ["owner", "admin", "editor", "member", "viewer"]]),
              "groups": strings, "name": string(),
            ], required: ["email", "password", "role"]), parameters: [path("slug")])
      ],
      "/v1/users": [
        "get": operation(
          "listUsers", "List the tenant's users.", status: "200", response: "UserPage",
          parameters: listParameters)
      ],
      "/v1/users/{id}": [
        "get": operation(
          "getUser", "One user.", status: "200", response: "User", parameters: [path("id")]),
        "patch": operation(
          "updateUser", "Change a user's role, groups, name, password or state.",
          status: "200", response: "User",
          body: object([
            "role": string(["enum": ["owner", "admin", "editor", "member", "viewer"]]),
            "groups": strings, "disabled": boolean, "name": string(), "password": string(),
          ]), parameters: [path("id")]),
        "delete": operation(
          "deleteUser", "Remove a user.", status: "204", response: nil,
          parameters: [path("id")]),
      ],
      "/v1/api-keys": [
        "post": operation(
          "createApiKey", "Create an API key; the secret is returned only here.",
          status: "201", response: "ApiKey",
          body: object(
            [
              "name": string(),
              "scopes": [
                "type": "array", "items": string(["enum": ["search", "ingest", "admin"]]),
              ],
              "expires_at": time,
            ], required: ["name", "scopes"])),
        "get": operation(
          "listApiKeys", "The tenant's API keys.", status: "200", response: "ApiKeyPage"),
      ],
      "/v1/api-keys/{id}": [
        "delete": operation(
          "revokeApiKey", "Revoke an API key.", status: "204", response: nil,
          parameters: [path("id")])
      ],
      "/v1/documents": [
        "post": operation(
          "submitDocuments", "Submit a batch for ingest (ingest scope).", status: "202",
          response: "IngestAccepted",
          body: object(
            [
              "documents": [
                "type": "array", "minItems": 1, "maxItems": 1000, "items": ref("IngestDocument"),
              ]
            ], required: ["documents"]),
          parameters: [
            [
              "name": "Idempotency-Key", "in": "header", "required": true,
              "schema": string(["minLength": 1, "maxLength": 128, "pattern": "^[!-~]+$"]),
            ]
          ])
      ],
      "/v1/jobs/{id}": [
        "get": operation(
          "getJob", "An ingest job's state and errors.", status: "200", response: "Job",
          parameters: [path("id")])
      ],
      "/v1/documents/{id}": [
        "get": operation(
          "getDocument", "One document (search scope).", status: "200", response: "Document",
          parameters: [path("id")]),
        "delete": operation(
          "deleteDocument", "Delete one document (ingest scope).", status: "204", response: nil,
          parameters: [path("id")]),
      ],
      "/v1/search": [
        "get": operation(
          "search", "Search what the caller may see (search scope).", status: "200",
          response: "SearchResults",
          parameters: [
            query("q", string(["minLength": 1, "maxLength": 1000]), required: true),
            query("limit", ["type": "integer", "minimum": 1, "maximum": 100]),
            query("offset", ["type": "integer", "minimum": 0, "maximum": 10000]),
            query("source", string()), query("content_type", string()),
          ])
      ],
      "/v1/stats": [
        "get": operation("stats", "Document counts by source.", status: "200", response: "Stats")
      ],
      "/v1/audit": [
        "get": operation(
          "audit", "The tenant's audit log (tenant administrator).", status: "200",
          response: "AuditPage", parameters: listParameters)
      ],
    ]
  }
}
