// kp-load: Drives the gateway with a bounded, reproducible load and reports latency percentiles.
import Foundation
import KPServiceKit
import KPTLS

let command = ServiceCommand(
  name: "kp-load",
  summary: "Drives the gateway's external RPC port with a bounded, reproducible load (search, "
    + "get and ingest, as one or more tenants) and reports throughput, errors by status and "
    + "latency percentiles, overall and per tenant, as a table or JSON. Query terms come from "
    + "each tenant's own documents. Exit status: 0 when the run ends with at least one success, "
    + "1 when the gateway cannot be reached, refuses a credential or answers no request, 2 for "
    + "a setting that cannot be used.",
  settings: LoadOptions.settings
)
let configuration = command.parseOrExit()
let logger = configuration.makeLogger(label: command.name)

/// Prints a problem and exits.
func fail(_ message: String, status: Int32) -> Never {
  FileHandle.standardError.write(Data("kp-load: \(message)\n".utf8))
  exit(status)
}

TLSRuntime.ignoreSIGPIPE()
let options: LoadOptions
let client: any GatewayClient
do {
  options = try LoadOptions(configuration)
  if let https = options.httpsTarget {
    client = try HTTPSGatewayClient(target: https, options: options)
  } else {
    client = try RPCGatewayClient(options: options)
  }
} catch let error as LoadError {
  fail(error.message, status: ServiceCommand.usageExitStatus)
} catch let error as ConfigurationError {
  fail(error.message, status: ServiceCommand.usageExitStatus)
} catch {
  fail("\(error)", status: ServiceCommand.usageExitStatus)
}

let report: LoadReport
do {
  report = try await LoadCommand.run(options: options, client: client, logger: logger)
} catch {
  client.close()
  fail(error.message, status: 1)
}
client.close()

let json = report.json
if let path = options.jsonOut {
  do {
    try Data((json + "\n").utf8).write(to: URL(fileURLWithPath: path))
  } catch {
    fail("cannot write the JSON report to \(path): \(error.localizedDescription)", status: 1)
  }
}
print(options.json ? json : report.table)
exit(report.overall.ok > 0 ? 0 : 1)
