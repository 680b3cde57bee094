// kp-gateway: The only exposed service: external API, authentication, per-tenant limits.
import KPServiceKit

#if canImport(Glibc)
  import Glibc
#endif

// The mesh server answers health checks and exports metrics; the service's own methods join
// it as they are built.
exit(
  await MeshService.main(
    service: "gateway",
    summary: "The only exposed service: external API, authentication, per-tenant limits."))
