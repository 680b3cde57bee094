/// Splits a byte stream into frames: a 4-byte big-endian length, then that many bytes.
///
/// The decoder is pure: it holds no socket and can be fed any bytes. A length above the
/// configured maximum is refused as soon as its four bytes arrive, before any of the frame's
/// body is buffered, so an `FF FF FF FF` prefix costs nothing.
public struct FrameDecoder: Sendable {
  /// The largest frame body accepted, in bytes.
  public let maximumFrameSize: Int

  private var buffer: [UInt8] = []
  private var readIndex = 0

  /// Makes a decoder that refuses frames longer than `maximumFrameSize` bytes.
  public init(maximumFrameSize: Int) {
    self.maximumFrameSize = maximumFrameSize
  }

  /// The number of bytes received but not yet returned as frames.
  public var bufferedByteCount: Int { buffer.count - readIndex }

  /// Appends received bytes.
  public mutating func append(_ bytes: UnsafeRawBufferPointer) {
    compactIfWorthwhile()
    buffer.append(contentsOf: bytes)
  }

  /// Appends received bytes.
  public mutating func append(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { append($0) }
  }

  /// Calls `body` with the next complete frame's body, if one is buffered.
  ///
  /// - Returns: `true` when a frame was passed to `body`, `false` when more bytes are needed.
  /// - Throws: `FrameError` when the next frame's declared length is above the maximum.
  public mutating func nextFrame(
    _ body: (UnsafeRawBufferPointer) throws -> Void
  ) throws -> Bool {
    let available = buffer.count - readIndex
    guard available >= 4 else { return false }

    let length = buffer.withUnsafeBufferPointer { bytes -> Int in
      let base = readIndex
      return Int(bytes[base]) << 24 | Int(bytes[base + 1]) << 16 | Int(bytes[base + 2]) << 8
        | Int(bytes[base + 3])
    }
    guard length <= maximumFrameSize else {
      throw FrameError.frameTooLarge(length: length, maximum: maximumFrameSize)
    }
    guard available >= 4 + length else { return false }

    let start = readIndex + 4
    readIndex = start + length
    try buffer.withUnsafeBytes { raw in
      try body(UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)]))
    }
    if readIndex == buffer.count {
      buffer.removeAll(keepingCapacity: buffer.capacity <= 16 * 1024)
      readIndex = 0
    }
    return true
  }

  private mutating func compactIfWorthwhile() {
    if readIndex > 0 && (readIndex >= 16 * 1024 || readIndex == buffer.count) {
      buffer.removeFirst(readIndex)
      readIndex = 0
    }
  }
}

/// A violation of the framing layer.
public struct FrameError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A stable identifier for the kind of violation.
  public var code: String
  /// What happened, for a person.
  public var message: String

  /// A frame declared a length above the receiver's maximum.
  public static func frameTooLarge(length: Int, maximum: Int) -> FrameError {
    FrameError(
      code: "frame_too_large",
      message: "frame of \(length) bytes exceeds the maximum frame size of \(maximum) bytes")
  }

  /// A frame's body is not a valid envelope.
  public static func malformedEnvelope(_ detail: String) -> FrameError {
    FrameError(code: "malformed_envelope", message: "malformed envelope: \(detail)")
  }

  public var description: String { message }
}
