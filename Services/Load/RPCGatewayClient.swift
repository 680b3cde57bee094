import KPProtoRuntime
import KPProtocol
import KPRPC
import KPTLS

/// Calls the gateway's external RPC port: server-authenticated TLS, the credential in the
/// `authorization` metadata of every call, and no retries, so every request the report counts
/// is exactly one call the gateway sees.
struct RPCGatewayClient: GatewayClient {
  let channel: RPCChannel
  let timeout: Duration

  var transport: String { "rpc" }

  /// Makes the channel; nothing connects until the first call.
  ///
  /// - Throws: ``LoadError`` when the CA bundle cannot be loaded.
  init(options: LoadOptions) throws(LoadError) {
    let tls: TLSContext
    do {
      tls = try TLSContext(configuration: .externalClient(trustRoots: options.caFile))
    } catch {
      throw LoadError(
        .invalidSetting,
        "cannot load the CA bundle \(options.caFile ?? "(system roots)"): \(error.message)")
    }
    var configuration = RPCClientConfiguration()
    configuration.connectionsPerEndpoint = options.connections
    configuration.connectTimeout = .seconds(5)
    configuration.defaultTimeout = options.timeout
    configuration.retry.maximumAttempts = 1
    channel = RPCChannel(
      target: RPCTarget(
        endpoints: [options.target], expectedIdentity: nil, serverName: options.serverName),
      tls: tls, configuration: configuration)
    timeout = options.timeout
  }

  func sample(
    count: Int, as tenant: TenantCredential
  ) async -> (calls: [CallOutcome], documents: [SampledDocument]) {
    var request = Kp_Knowledge_V1_ListDocumentsRequest()
    request.pageSize = UInt32(count)
    let (outcome, response) = await call(
      Kp_Knowledge_V1_Knowledge.listDocuments, request, as: tenant)
    let documents = (response?.documents ?? []).map {
      SampledDocument(id: $0.id, text: $0.title + "\n" + $0.text)
    }
    return ([outcome], documents)
  }

  func search(_ query: String, as tenant: TenantCredential) async -> CallOutcome {
    var request = Kp_Knowledge_V1_SearchRequest()
    request.query = query
    request.pageSize = 10
    var (outcome, response) = await call(Kp_Knowledge_V1_Knowledge.search, request, as: tenant)
    outcome.documentIDs = response?.hits.map(\.documentId) ?? []
    return outcome
  }

  func get(_ id: String, as tenant: TenantCredential) async -> CallOutcome {
    var request = Kp_Knowledge_V1_GetDocumentRequest()
    request.key = .id(id)
    return await call(Kp_Knowledge_V1_Knowledge.getDocument, request, as: tenant).0
  }

  func ingest(
    _ document: GeneratedDocument, idempotencyKey: String, as tenant: TenantCredential
  ) async -> CallOutcome {
    var member = Kp_Ingest_V1_IngestDocument()
    member.operation = .upsert
    member.source = GeneratedDocument.source
    member.externalId = document.externalID
    member.title = document.title
    member.contentType = "text/plain"
    member.content = Array(document.text.utf8)
    member.tenantWide = true
    var request = Kp_Ingest_V1_SubmitBatchRequest()
    request.idempotencyKey = idempotencyKey
    request.documents = [member]
    return await call(Kp_Ingest_V1_Ingest.submitBatch, request, as: tenant).0
  }

  func close() {
    channel.close()
  }

  private func call<Request, Response>(
    _ method: ProtoMethod<Request, Response>, _ request: Request, as tenant: TenantCredential
  ) async -> (CallOutcome, Response?) {
    var options = CallOptions(timeout: timeout)
    options.metadata.add(MetadataKey.authorization, "Bearer " + tenant.token)
    do {
      let response = try await channel.unary(method, request, options: options)
      return (CallOutcome(call: method.path, code: CallOutcome.ok), response)
    } catch {
      return (CallOutcome(call: method.path, code: error.code.name, message: error.message), nil)
    }
  }
}
