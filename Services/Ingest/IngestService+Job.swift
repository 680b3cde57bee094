import KPDatabase
import KPProtocol
import KPRPC

extension IngestService {
  /// The most document errors one job report lists.
  static let maximumReportedErrors = 1_000

  /// Reports a job of the caller's tenant: its state, its counts, its refused documents and,
  /// for a job parked as failed, why.
  func job(
    _ request: Kp_Ingest_V1_GetJobRequest, _ context: ServerContext
  ) async throws(IngestError) -> Kp_Ingest_V1_GetJobResponse {
    let tenantID = try Self.tenant(of: context)
    let id = request.jobId
    guard !id.isEmpty else {
      throw IngestError(.invalidArgument, "job_id is required")
    }
    guard id.utf8.count <= 64 else {
      throw IngestError(.notFound, "no such job")
    }
    _ = try await record(of: tenantID)
    let limit = Self.maximumReportedErrors
    let report = try await inTenant(tenantID) { transaction -> JobReport? in
      try JobReport.load(id, errorLimit: limit, in: transaction)
    }
    guard let report else {
      throw IngestError(.notFound, "no such job")
    }
    var response = Kp_Ingest_V1_GetJobResponse()
    response.job = report.message
    return response
  }
}
