import CKPShim
import COpenSSL

/// The entries of this thread's OpenSSL error queue, taken off the queue.
struct OpenSSLErrorQueue {
  /// The packed error codes, oldest first.
  private(set) var codes: [UInt] = []

  /// Drains the calling thread's error queue, leaving it empty.
  static func drain() -> OpenSSLErrorQueue {
    var queue = OpenSSLErrorQueue()
    var remaining = 64
    while remaining > 0 {
      let code = ERR_get_error()
      if code == 0 { break }
      queue.codes.append(code)
      remaining -= 1
    }
    if remaining == 0 { ERR_clear_error() }
    return queue
  }

  /// The libssl reason codes in the queue, oldest first.
  var sslReasons: [Int32] {
    let ssl = kp_err_lib_ssl()
    return codes.filter { kp_err_get_lib($0) == ssl }.map { kp_err_get_reason($0) }
  }

  /// Whether the queue holds the libssl reason `reason`.
  func contains(sslReason reason: Int32) -> Bool {
    sslReasons.contains(reason)
  }

  /// Whether the queue holds an entry of library `library` with reason `reason`.
  func contains(library: Int32, reason: Int32) -> Bool {
    codes.contains { kp_err_get_lib($0) == library && kp_err_get_reason($0) == reason }
  }

  /// OpenSSL's text for every entry, joined by "; ", or an empty string.
  var text: String {
    codes.map { code in
      withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
        ERR_error_string_n(code, buffer.baseAddress, buffer.count)
        return String(cString: buffer.baseAddress!)
      }
    }.joined(separator: "; ")
  }

  /// `message`, followed by the queue's text in parentheses when there is any.
  func annotate(_ message: String) -> String {
    let text = self.text
    return text.isEmpty ? message : "\(message) (OpenSSL: \(text))"
  }
}

extension TLSError {
  /// A configuration error whose message ends with the drained OpenSSL error queue.
  static func configuration(_ message: String) -> TLSError {
    TLSError(code: .configuration, message: OpenSSLErrorQueue.drain().annotate(message))
  }
}
