import KPProtoRuntime
import KPProtocol
import Testing

@Suite("The generated API")
struct GeneratedAPITests {
  @Test func servicesDescribeTheirMethods() {
    #expect(Kp_Health_V1_Health.serviceName == "kp.health.v1.Health")
    let check = Kp_Health_V1_Health.check
    #expect(check.path == "/kp.health.v1.Health/Check")
    #expect(!check.clientStreaming && !check.serverStreaming && check.idempotent)
    #expect(Kp_Health_V1_Health.watch.serverStreaming)

    #expect(Kp_Testing_V1_Echo.echo.path == "/kp.testing.v1.Echo/Echo")
    #expect(Kp_Testing_V1_Echo.echo.idempotent)
    #expect(Kp_Testing_V1_Echo.serverStream.serverStreaming)
    #expect(!Kp_Testing_V1_Echo.serverStream.clientStreaming)
    #expect(Kp_Testing_V1_Echo.clientStream.clientStreaming)
    #expect(!Kp_Testing_V1_Echo.clientStream.serverStreaming)
    #expect(Kp_Testing_V1_Echo.bidiStream.clientStreaming)
    #expect(Kp_Testing_V1_Echo.bidiStream.serverStreaming)
    #expect(!Kp_Testing_V1_Echo.bidiStream.idempotent)

    #expect(Kp_Tenants_V1_Tenants.createTenant.idempotent == false)
    #expect(Kp_Tenants_V1_Tenants.getTenant.idempotent)
    #expect(Kp_Tenants_V1_Tenants.migrate.serverStreaming)
    #expect(Kp_Agent_V1_AgentTunnel.connect.clientStreaming)
  }

  @Test func enumsAreOpenAndNamedWithoutTheirPrefix() {
    #expect(Kp_Wire_V1_StatusCode.ok.rawValue == 0)
    #expect(Kp_Wire_V1_StatusCode.deadlineExceeded.rawValue == 4)
    #expect(Kp_Wire_V1_StatusCode.unauthenticated.rawValue == 16)
    #expect(Kp_Wire_V1_StatusCode().description == "OK")
    #expect(Kp_Wire_V1_StatusCode.knownValues.count == 17)
    #expect(Kp_Tenants_V1_TenantState.active.rawValue == 2)
    #expect(Kp_Health_V1_HealthCheckResponse.ServingStatus.notServing.rawValue == 2)
    #expect(Kp_Testing_V1_AllKinds.Mode.fast.rawValue == 1)
    #expect(Kp_Wire_V1_StatusCode(rawValue: 1_000).description == "1000")
  }

  @Test func scalarDefaultsAreProto3Defaults() {
    let message = Kp_Testing_V1_AllKinds()
    #expect(message.text.isEmpty && message.data.isEmpty && !message.flag)
    #expect(message.i64 == 0 && message.real == 0 && message.color == .unspecified)
    #expect(message.labels.isEmpty && message.points.isEmpty)
    #expect(message.origin == nil && message.choice == nil)
  }

  @Test func errorsCompareByCode() {
    let first = ProtoError(code: .malformed, message: "one")
    let second = ProtoError(code: .malformed, message: "two")
    #expect(first == second)
    #expect(first != ProtoError(code: .invalidUTF8, message: "one"))
    #expect(first.description == "malformed: one")
  }
}
