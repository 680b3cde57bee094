import KPHTTP

/// One route of the REST API: a method, a path template such as `/v1/documents/{id}`, whether
/// it needs a credential, and its handler.
struct Route: Sendable {
  /// Answers a matched request.
  typealias Handler =
    @Sendable (GatewayAPI, RouteRequest) async throws(GatewayError) ->
    HTTPResponse

  /// The method.
  let method: HTTPMethod
  /// The path template, the label metrics and logs use.
  let template: String
  /// Whether the request must carry a verified credential.
  let authenticated: Bool
  /// The handler.
  let handler: Handler

  private let pattern: [String]

  /// Makes a route.
  init(
    _ method: HTTPMethod, _ template: String, authenticated: Bool = true,
    _ handler: @escaping Handler
  ) {
    self.method = method
    self.template = template
    self.authenticated = authenticated
    self.handler = handler
    pattern = template.split(separator: "/").map(String.init)
  }

  /// The path parameters when the decoded segments fit the template, else nil.
  func match(_ segments: [String]) -> [String: String]? {
    guard segments.count == pattern.count else { return nil }
    var parameters: [String: String] = [:]
    for (part, segment) in zip(pattern, segments) {
      if part.hasPrefix("{") && part.hasSuffix("}") {
        guard !segment.isEmpty else { return nil }
        parameters[String(part.dropFirst().dropLast())] = segment
      } else if part != segment {
        return nil
      }
    }
    return parameters
  }
}

/// A request matched to a route, with what the gateway verified about it.
struct RouteRequest: Sendable {
  /// The HTTP request.
  let http: HTTPRequest
  /// The path parameters, decoded.
  let parameters: [String: String]
  /// The request's id and trace.
  let trace: RequestTrace
  /// The verified caller; nil on routes open to anyone.
  let caller: VerifiedCaller?

  /// A path parameter the template guarantees.
  func parameter(_ name: String) -> String { parameters[name] ?? "" }

  /// The verified caller of an authenticated route.
  var verified: VerifiedCaller {
    get throws(GatewayError) {
      guard let caller else { throw .unauthenticated("this route needs a credential") }
      return caller
    }
  }

  /// A list's `limit` (1 to `maximum`, default `fallback`).
  func limit(maximum: Int = 1000, fallback: Int = 100) throws(GatewayError) -> Int {
    guard let text = http.queryValue("limit") else { return fallback }
    guard let value = Int(text), (1...maximum).contains(value) else {
      throw .invalid("limit must be a whole number from 1 to \(maximum)")
    }
    return value
  }

  /// A list's `page_token`, empty for the first page.
  var pageToken: String { http.queryValue("page_token") ?? "" }
}
