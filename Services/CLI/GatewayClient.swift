import Foundation
import KPHTTP
import KPServiceKit
import KPTokens

/// Calls the gateway's HTTPS API for one `kp` command: resolves the address, trust roots and
/// credential from the settings, sends JSON, and turns every failure into a ``CLIError`` a
/// person can act on.
final class GatewayClient {
  /// The gateway's address as given, such as `https://127.0.0.1:7100`.
  let address: String
  private let http: HTTPSClient
  private let configuration: ServiceConfiguration
  private var bearer: String?

  /// Makes a client from the command's settings; nothing is sent yet.
  init(configuration: ServiceConfiguration) throws(CLIError) {
    self.configuration = configuration
    let address = configuration.value(ClientSettings.gateway.name) ?? ""
    self.address = address
    guard let components = URLComponents(string: address),
      components.scheme?.lowercased() == "https",
      let host = components.host, !host.isEmpty
    else {
      throw .usage(
        "--gateway '\(address)' is not an https:// address such as https://127.0.0.1:7100")
    }
    let caFile = configuration.value(ClientSettings.caFile.name) ?? ""
    if !caFile.isEmpty && !FileManager.default.isReadableFile(atPath: caFile) {
      throw .usage(
        "the CA file '\(caFile)' (--ca-file, KP_CA_FILE) does not exist or cannot be read; "
          + "scripts/run makes the development CA in .kp/certs")
    }
    let seconds = Int(configuration.value(ClientSettings.timeout.name) ?? "") ?? 0
    guard seconds > 0 else {
      throw .usage("--timeout must be a whole number of seconds above 0")
    }
    do {
      http = try HTTPSClient(
        host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")),
        port: components.port ?? 443, trustRoots: caFile.isEmpty ? nil : caFile,
        timeout: .seconds(seconds))
    } catch {
      throw CLIError(code: "TLS", message: "cannot set up TLS: \(error.message)")
    }
  }

  deinit { http.close() }

  /// Sends a request and returns the response body of a 2xx answer.
  ///
  /// - Parameters:
  ///   - method: The HTTP method.
  ///   - path: The path, such as `/v1/tenants`; query items are encoded and appended.
  ///   - query: Query items; empty values are left out.
  ///   - body: A JSON object to send, or `nil`.
  ///   - headers: Extra header fields.
  ///   - authenticated: Whether to send the caller's credential.
  /// - Throws: ``CLIError`` with the gateway's error code and message, or a connection
  ///   failure.
  @discardableResult
  func request(
    _ method: HTTPMethod, _ path: String, query: [(String, String)] = [],
    body: [String: Any]? = nil, headers: [(String, String)] = [], authenticated: Bool = true
  ) throws(CLIError) -> Data {
    var target = path
    let items = query.filter { !$0.1.isEmpty }
    if !items.isEmpty {
      target +=
        "?"
        + items.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }
        .joined(separator: "&")
    }
    var fields = headers
    var payload: [UInt8] = []
    if let body {
      guard let data = try? JSONSerialization.data(withJSONObject: body) else {
        throw CLIError(code: "INTERNAL", message: "the request body cannot be encoded as JSON")
      }
      payload = Array(data)
      fields.append(("Content-Type", "application/json"))
    }
    fields.append(("Accept", "application/json"))
    if authenticated {
      fields.append(("Authorization", "Bearer \(try credential())"))
    }

    let response: HTTPClientResponse
    do {
      response = try http.send(method, target, headers: fields, body: payload)
    } catch {
      throw explain(error)
    }
    guard (200..<300).contains(response.status) else {
      throw apiError(response)
    }
    return Data(response.body)
  }

  /// Sends a request and decodes a 2xx answer as `type`.
  func request<T: Decodable>(
    _ type: T.Type, _ method: HTTPMethod, _ path: String, query: [(String, String)] = [],
    body: [String: Any]? = nil, headers: [(String, String)] = [], authenticated: Bool = true
  ) throws(CLIError) -> T {
    let data = try request(
      method, path, query: query, body: body, headers: headers, authenticated: authenticated)
    do {
      return try APIJSON.decoder.decode(type, from: data)
    } catch {
      throw CLIError(
        code: "PROTOCOL",
        message: "the gateway's answer to \(method) \(path) is not what kp expects: \(error)")
    }
  }

  // MARK: - Credentials

  /// The bearer credential: `--token`, else the saved login (refreshed when it expires).
  func credential() throws(CLIError) -> String {
    if let bearer { return bearer }
    if let token = configuration.value(ClientSettings.token.name), !token.isEmpty {
      bearer = token
      return token
    }
    let path = configuration.value(ClientSettings.credentialsFile.name) ?? ""
    guard var saved = try SavedCredentials.load(path: path) else {
      throw CLIError(
        code: "UNAUTHENTICATED",
        message: "no credential: run 'kp login --tenant <slug> --email <email>' or pass --token "
          + "(KP_TOKEN)")
    }
    if Self.normalized(saved.gateway) != Self.normalized(address) {
      // A gateway that cannot be reached is the first thing to fix.
      do {
        _ = try http.send(.get, "/healthz", headers: [], body: [])
      } catch  where error.code == .unreachable {
        var unreachable = explain(error)
        unreachable.message += " (The saved login is for \(saved.gateway).)"
        throw unreachable
      } catch {
        // Reachable enough: the login is what does not fit.
      }
      throw CLIError(
        code: "UNAUTHENTICATED",
        message: "the saved login is for \(saved.gateway), not \(address); run 'kp login' again")
    }
    if saved.needsRefresh {
      // One process refreshes at a time; one that waited uses what the other saved.
      saved = try SavedCredentials.withRefreshLock(path: path) { () throws(CLIError) in
        guard let current = try SavedCredentials.load(path: path), current.gateway == saved.gateway
        else { return try refreshAndSave(saved, path: path) }
        return current.needsRefresh ? try refreshAndSave(current, path: path) : current
      }
    }
    bearer = saved.accessToken
    return saved.accessToken
  }

  /// A gateway address in a form two spellings of the same gateway share: scheme and host in
  /// lower case, the port always given, no trailing `/`.
  static func normalized(_ address: String) -> String {
    guard let components = URLComponents(string: address), let scheme = components.scheme,
      let host = components.host
    else { return address }
    var path = components.path
    while path.hasSuffix("/") { path.removeLast() }
    let port = components.port ?? (scheme.lowercased() == "https" ? 443 : 80)
    return "\(scheme.lowercased())://\(host.lowercased()):\(port)\(path)"
  }

  /// Who the caller is, stable across token refreshes: the saved login's tenant and email, or
  /// a digest of the explicit token. Never the credential itself.
  func callerIdentity() throws(CLIError) -> String {
    if let token = configuration.value(ClientSettings.token.name), !token.isEmpty {
      return "token:" + Hex.encode(SHA256.digest(token).prefix(12))
    }
    let path = configuration.value(ClientSettings.credentialsFile.name) ?? ""
    guard let saved = try SavedCredentials.load(path: path) else {
      _ = try credential()
      return ""
    }
    return "login:\(saved.tenant)/\(saved.email)"
  }

  private func refreshAndSave(_ saved: SavedCredentials, path: String) throws(CLIError)
    -> SavedCredentials
  {
    let refreshed = try refresh(saved)
    try refreshed.save(path: path)
    return refreshed
  }

  private func refresh(_ saved: SavedCredentials) throws(CLIError) -> SavedCredentials {
    do {
      let tokens = try request(
        TokenResponse.self, .post, "/v1/auth/refresh",
        body: ["refresh_token": saved.refreshToken], authenticated: false)
      var updated = saved
      updated.accessToken = tokens.accessToken
      updated.refreshToken = tokens.refreshToken
      updated.expiresAt = Date().timeIntervalSince1970 + Double(tokens.expiresIn)
      return updated
    } catch {
      let reason = error.message.replacingOccurrences(
        of: " (run 'kp login', or pass a valid --token)", with: "")
      throw CLIError(
        code: error.code,
        message: "the saved login has expired and cannot be renewed (\(reason)); run "
          + "'kp login' again")
    }
  }

  // MARK: - Errors

  private func explain(_ error: HTTPClientError) -> CLIError {
    switch error.code {
    case .unreachable:
      return CLIError(
        code: "UNREACHABLE",
        message: "cannot reach the gateway at \(address): \(error.message). Is the mesh "
          + "running? 'kp up' (or scripts/run) starts it; --gateway or KP_GATEWAY names another.")
    case .tls:
      return CLIError(
        code: "TLS",
        message: "\(error.message). Check --ca-file (KP_CA_FILE): it must hold the CA that "
          + "signed the gateway's certificate.")
    case .timeout:
      return CLIError(
        code: "TIMEOUT", message: "\(error.message); raise --timeout or try again later")
    default:
      return CLIError(code: error.code.rawValue, message: error.message)
    }
  }

  private func apiError(_ response: HTTPClientResponse) -> CLIError {
    struct Envelope: Decodable {
      struct Body: Decodable {
        var code: String
        var message: String
      }
      var error: Body
    }
    guard let envelope = try? response.decode(Envelope.self) else {
      return CLIError(
        code: "HTTP_\(response.status)",
        message: "the gateway answered \(response.status) without an error body")
    }
    var message = envelope.error.message
    switch envelope.error.code {
    case "UNAUTHENTICATED" where Self.signingInAgainHelps(message):
      message += " (run 'kp login', or pass a valid --token)"
    case "RESOURCE_EXHAUSTED":
      if let wait = response.headers["retry-after"] { message += " (retry after \(wait) s)" }
    default:
      break
    }
    return CLIError(code: envelope.error.code, message: "\(envelope.error.code): \(message)")
  }

  /// Whether a refusal is one a new sign-in cures: not a wrong password (that was the
  /// sign-in), not a suspended tenant, and not a message that already says what to do.
  static func signingInAgainHelps(_ message: String) -> Bool {
    !message.contains("suspended") && !message.contains("email or password is wrong")
      && !message.contains("kp login")
  }

  private static let unreserved = CharacterSet(
    charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

  /// Percent-encodes a query name or value.
  static func encode(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
  }

  /// Percent-encodes one path segment.
  static func segment(_ text: String) -> String { encode(text) }
}
