import KPHTTP

extension GatewayAPI {
  /// Every route of the API; `docs/api.md` and ``OpenAPIDocument`` describe the same set.
  static var routeTable: [Route] {
    [
      Route(.get, "/healthz", authenticated: false) { api, _ throws(GatewayError) in
        try api.json(["status": "ok"])
      },
      Route(.get, "/readyz", authenticated: false) { api, request throws(GatewayError) in
        try await api.readiness(request)
      },
      Route(.get, "/v1/openapi.json", authenticated: false) { api, _ throws(GatewayError) in
        HTTPResponse(
          status: .ok, headers: ["Content-Type": "application/json; charset=utf-8"],
          body: api.openAPI)
      },
      Route(.post, "/v1/auth/login", authenticated: false) { api, request throws(GatewayError) in
        try await api.login(request)
      },
      Route(.post, "/v1/auth/refresh", authenticated: false) {
        api, request throws(GatewayError) in try await api.refresh(request)
      },
      Route(.post, "/v1/auth/logout") { api, request throws(GatewayError) in
        try await api.logout(request)
      },
      Route(.post, "/v1/tenants") { api, request throws(GatewayError) in
        try await api.createTenant(request)
      },
      Route(.get, "/v1/tenants") { api, request throws(GatewayError) in
        try await api.listTenants(request)
      },
      Route(.get, "/v1/tenants/{slug}") { api, request throws(GatewayError) in
        try await api.getTenant(request)
      },
      Route(.patch, "/v1/tenants/{slug}") { api, request throws(GatewayError) in
        try await api.updateTenant(request)
      },
      Route(.delete, "/v1/tenants/{slug}") { api, request throws(GatewayError) in
        try await api.deleteTenant(request)
      },
      Route(.post, "/v1/tenants/{slug}/users") { api, request throws(GatewayError) in
        try await api.createUser(request)
      },
      Route(.get, "/v1/users") { api, request throws(GatewayError) in
        try await api.listUsers(request)
      },
      Route(.get, "/v1/users/{id}") { api, request throws(GatewayError) in
        try await api.getUser(request)
      },
      Route(.patch, "/v1/users/{id}") { api, request throws(GatewayError) in
        try await api.updateUser(request)
      },
      Route(.delete, "/v1/users/{id}") { api, request throws(GatewayError) in
        try await api.deleteUser(request)
      },
      Route(.post, "/v1/api-keys") { api, request throws(GatewayError) in
        try await api.createAPIKey(request)
      },
      Route(.get, "/v1/api-keys") { api, request throws(GatewayError) in
        try await api.listAPIKeys(request)
      },
      Route(.delete, "/v1/api-keys/{id}") { api, request throws(GatewayError) in
        try await api.revokeAPIKey(request)
      },
      Route(.post, "/v1/documents") { api, request throws(GatewayError) in
        try await api.submitDocuments(request)
      },
      Route(.get, "/v1/jobs/{id}") { api, request throws(GatewayError) in
        try await api.getJob(request)
      },
      Route(.get, "/v1/documents/{id}") { api, request throws(GatewayError) in
        try await api.getDocument(request)
      },
      Route(.delete, "/v1/documents/{id}") { api, request throws(GatewayError) in
        try await api.deleteDocument(request)
      },
      Route(.get, "/v1/search") { api, request throws(GatewayError) in
        try await api.search(request)
      },
      Route(.get, "/v1/stats") { api, request throws(GatewayError) in
        try await api.stats(request)
      },
      Route(.get, "/v1/audit") { api, request throws(GatewayError) in
        try await api.audit(request)
      },
    ]
  }
}
