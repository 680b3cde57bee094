public import KPTLS

/// Which callers may call a method.
public struct CallerPolicy: Sendable {
  private enum Rule: Sendable {
    case anyone
    case anyAuthenticated
    case identities(Set<String>)
  }

  private let rule: Rule

  /// Any caller, even without a certificate (the gateway's external port).
  public static let anyone = CallerPolicy(rule: .anyone)
  /// Any caller with a verified platform certificate.
  public static let anyAuthenticated = CallerPolicy(rule: .anyAuthenticated)

  /// Only callers whose certificate carries one of these identities, such as
  /// `spiffe://knowledgeplane/svc/gateway`.
  public static func only(_ identities: Set<String>) -> CallerPolicy {
    CallerPolicy(rule: .identities(identities))
  }

  /// Whether a caller with this verified identity may call.
  public func admits(_ peer: PeerIdentity?) -> Bool {
    switch rule {
    case .anyone: return true
    case .anyAuthenticated: return peer != nil
    case .identities(let allowed):
      guard let peer else { return false }
      return peer.uris.contains { allowed.contains($0) }
    }
  }
}
