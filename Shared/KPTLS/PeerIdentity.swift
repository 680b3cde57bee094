import CKPShim
import COpenSSL

/// Who the peer of a TLS session is, as named by its verified certificate.
///
/// Inside the mesh a service is named by a SAN URI such as
/// `spiffe://knowledgeplane/svc/auth`; ``primary`` is that URI.
public struct PeerIdentity: Sendable, Hashable {
  /// The certificate's subject-alternative-name URIs, in certificate order.
  public var uris: [String]

  /// The certificate's subject-alternative-name DNS names, in certificate order.
  public var dnsNames: [String]

  /// The subject's common name, if it has one.
  public var commonName: String?

  /// The first `spiffe://` URI, the service identity inside the mesh; `nil` when the
  /// certificate has none.
  public var primary: String? {
    uris.first { $0.hasPrefix("spiffe://") }
  }

  /// Creates an identity from its parts.
  ///
  /// - Parameters:
  ///   - uris: SAN URIs.
  ///   - dnsNames: SAN DNS names.
  ///   - commonName: The subject's common name.
  public init(uris: [String], dnsNames: [String] = [], commonName: String? = nil) {
    self.uris = uris
    self.dnsNames = dnsNames
    self.commonName = commonName
  }

  /// Reads the identity of an OpenSSL `X509` certificate.
  init(certificate: OpaquePointer) {
    var uris: [String] = []
    var dnsNames: [String] = []
    if let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) {
      let names = OpaquePointer(raw)
      defer { kp_general_names_free(names) }
      for index in 0..<max(0, kp_general_names_count(names)) {
        guard let name = kp_general_names_value(names, index) else { continue }
        var data: UnsafePointer<UInt8>?
        var length = kp_general_name_uri(name, &data)
        if length >= 0, let data {
          uris.append(
            String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self))
          continue
        }
        length = kp_general_name_dns(name, &data)
        if length >= 0, let data {
          dnsNames.append(
            String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self))
        }
      }
    }
    self.init(uris: uris, dnsNames: dnsNames, commonName: Self.commonName(of: certificate))
  }

  private static func commonName(of certificate: OpaquePointer) -> String? {
    guard let subject = X509_get_subject_name(certificate) else { return nil }
    let index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1)
    guard index >= 0, let entry = X509_NAME_get_entry(subject, index),
      let data = X509_NAME_ENTRY_get_data(entry)
    else { return nil }
    var utf8: UnsafeMutablePointer<UInt8>?
    let length = ASN1_STRING_to_UTF8(&utf8, data)
    guard length >= 0, let utf8 else { return nil }
    defer { kp_openssl_free(utf8) }
    return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
  }
}
