import KPHTTP
import KPProtocol

extension GatewayAPI {
  /// `POST /v1/tenants {slug, name, plan}`: the platform administrator creates a tenant.
  func createTenant(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    try request.verified.requirePlatformAdmin()
    let body = try JSONBody(request.http)
    var message = Kp_Tenants_V1_CreateTenantRequest()
    message.slug = try body.requiredString("slug")
    message.displayName = try body.requiredString("name")
    message.planId = try body.requiredString("plan")
    let response = try await call(
      upstreams.tenants, Kp_Tenants_V1_Tenants.createTenant, message, for: request)
    guard let tenant = response.tenant else {
      throw GatewayError("INTERNAL", "the registry answered without the tenant")
    }
    return try json(APIObjects.tenant(tenant), status: .created)
  }

  /// `GET /v1/tenants`: one page of tenants.
  func listTenants(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    try request.verified.requirePlatformAdmin()
    var message = Kp_Tenants_V1_ListTenantsRequest()
    message.pageSize = UInt32(try request.limit())
    message.pageToken = request.pageToken
    let response = try await call(
      upstreams.tenants, Kp_Tenants_V1_Tenants.listTenants, message, for: request)
    return try json(
      APIObjects.page(response.tenants.map { APIObjects.tenant($0) }, next: response.nextPageToken))
  }

  /// `GET /v1/tenants/{slug}`: one tenant with its quotas and usage.
  func getTenant(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    try request.verified.requirePlatformAdmin()
    let response = try await tenant(slug: request.parameter("slug"), usage: true, for: request)
    guard let tenant = response.tenant else { throw .notFound("no such tenant") }
    return try json(
      APIObjects.tenant(tenant, quotas: response.effectiveQuotas, usage: response.usage))
  }

  /// `PATCH /v1/tenants/{slug} {status?, plan?, reason?}`: suspend, resume or change the plan.
  func updateTenant(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    try request.verified.requirePlatformAdmin()
    let body = try JSONBody(request.http)
    let status = try body.string("status")
    let plan = try body.string("plan")
    let reason = try body.string("reason") ?? ""
    if let status, !["suspended", "active"].contains(status) {
      throw .unprocessable("'status' must be \"suspended\" or \"active\"")
    }
    guard status != nil || plan != nil else {
      throw .unprocessable("send 'status' or 'plan' to change")
    }
    let current = try await tenant(slug: request.parameter("slug"), usage: false, for: request)
    guard var tenant = current.tenant else { throw .notFound("no such tenant") }
    if let plan, plan != tenant.planId {
      var message = Kp_Tenants_V1_ChangePlanRequest()
      message.id = tenant.id
      message.planId = plan
      do {
        tenant =
          try await call(
            upstreams.tenants, Kp_Tenants_V1_Tenants.changePlan, message, for: request
          ).tenant ?? tenant
      } catch  where error.code == "INVALID_ARGUMENT" {
        throw .unprocessable(error.message)
      }
    }
    if status == "suspended" && tenant.state != .suspended {
      var message = Kp_Tenants_V1_SuspendTenantRequest()
      message.id = tenant.id
      message.reason = reason.isEmpty ? "suspended by the platform administrator" : reason
      tenant =
        try await call(
          upstreams.tenants, Kp_Tenants_V1_Tenants.suspendTenant, message, for: request
        ).tenant ?? tenant
    } else if status == "active" && tenant.state != .active {
      var message = Kp_Tenants_V1_ResumeTenantRequest()
      message.id = tenant.id
      tenant =
        try await call(
          upstreams.tenants, Kp_Tenants_V1_Tenants.resumeTenant, message, for: request
        ).tenant ?? tenant
    }
    tenants.forget(id: tenant.id)
    authenticator.forgetAPIKeys()
    return try json(APIObjects.tenant(tenant))
  }

  /// `DELETE /v1/tenants/{slug}`: deletes the tenant with all its data.
  func deleteTenant(_ request: RouteRequest) async throws(GatewayError) -> HTTPResponse {
    try request.verified.requirePlatformAdmin()
    let slug = request.parameter("slug")
    let current = try await tenant(slug: slug, usage: false, for: request)
    guard let tenant = current.tenant else { throw .notFound("no such tenant") }
    var message = Kp_Tenants_V1_DeleteTenantRequest()
    message.id = tenant.id
    message.confirmSlug = tenant.slug
    _ = try await call(
      upstreams.tenants, Kp_Tenants_V1_Tenants.deleteTenant, message, for: request)
    tenants.forget(id: tenant.id)
    authenticator.forgetAPIKeys()
    return noContent()
  }

  /// Looks a tenant up by slug; an unknown or malformed slug is 404.
  func tenant(
    slug: String, usage: Bool, for request: RouteRequest
  ) async throws(GatewayError) -> Kp_Tenants_V1_GetTenantResponse {
    var message = Kp_Tenants_V1_GetTenantRequest()
    message.key = .slug(slug)
    message.includeUsage = usage
    do {
      return try await call(
        upstreams.tenants, Kp_Tenants_V1_Tenants.getTenant, message, for: request)
    } catch  where error.code == "INVALID_ARGUMENT" {
      throw .notFound("no such tenant")
    }
  }
}
