// kp-ingest: The durable ingest pipeline: batches, normalising, chunking, deduplication.
import KPServiceKit

#if canImport(Glibc)
  import Glibc
#endif

// The mesh server answers health checks and exports metrics; the service's own methods join
// it as they are built.
exit(
  await MeshService.main(
    service: "ingest",
    summary: "The durable ingest pipeline: batches, normalising, chunking, deduplication."))
