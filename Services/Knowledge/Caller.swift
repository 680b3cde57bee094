import Foundation
import KPRPC
import KPServiceKit

/// Who a call acts for: the tenant, and the user and groups whose access the call is limited
/// to, from metadata the gateway set from a verified token.
struct Caller: Sendable {
  /// The metadata entry holding the user's groups, separated by commas: `kp-groups`.
  static let groupsKey = "kp-groups"

  /// The tenant the call acts for.
  let tenantID: String
  /// The user searching; empty when the call carries none.
  let userID: String
  /// The user's group names.
  let groups: [String]
  /// Whether reads are limited to what the user may see: true for calls from the gateway,
  /// false for the ingest service, which manages every document of the tenant.
  let limitedToAccess: Bool

  /// Reads the caller from a call's metadata and peer identity.
  ///
  /// - Throws: ``KnowledgeError`` `invalidArgument` when the call names no tenant.
  init(_ context: ServerContext) throws(KnowledgeError) {
    guard let tenant = context.metadata[MetadataKey.tenant], !tenant.isEmpty else {
      throw KnowledgeError(.invalidArgument, "the call has no '\(MetadataKey.tenant)' metadata")
    }
    tenantID = tenant
    userID = context.metadata[MetadataKey.user] ?? ""
    groups = (context.metadata[Self.groupsKey] ?? "").split(separator: ",").map {
      $0.trimmingCharacters(in: .whitespaces)
    }.filter { !$0.isEmpty }
    let ingest = MeshService.identity(of: "ingest")
    limitedToAccess = !(context.peer?.uris.contains(ingest) ?? false)
  }

  /// The user ids a document's access list must name for this caller.
  var userKeys: [String] { userID.isEmpty ? [] : [userID] }
}
