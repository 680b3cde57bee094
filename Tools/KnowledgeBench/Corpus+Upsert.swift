import KPProtocol
import KPRPC

extension Corpus {
  /// Upserts the corpus in batches of 50 documents, two calls at a time.
  func upsert(tenant: String, through ingest: RPCChannel) async throws {
    var options = CallOptions()
    options.metadata.add(MetadataKey.tenant, tenant)
    let callOptions = options
    let batches = stride(from: 0, to: documents.count, by: 50).map { start in
      Array(documents[start..<min(start + 50, documents.count)])
    }
    let next = WorkCounter()
    try await withThrowingTaskGroup(of: Void.self) { group in
      for _ in 0..<2 {
        group.addTask {
          while true {
            let index = next.next()
            guard index < batches.count else { return }
            var request = Kp_Knowledge_V1_UpsertDocumentsRequest()
            request.documents = batches[index]
            _ = try await ingest.unary(
              Kp_Knowledge_V1_Knowledge.upsertDocuments, request, options: callOptions)
          }
        }
      }
      try await group.waitForAll()
    }
  }
}
