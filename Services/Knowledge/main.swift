// kp-knowledge: Documents, versions, chunks, access lists and search.
import KPServiceKit

#if canImport(Glibc)
  import Glibc
#endif

// The mesh server answers health checks and exports metrics; the service's own methods join
// it as they are built.
exit(
  await MeshService.main(
    service: "knowledge", summary: "Documents, versions, chunks, access lists and search."))
