public import KPProtoRuntime

/// Writes frames: a 4-byte big-endian length, then the serialized message.
public enum FrameEncoder {
  /// Appends one framed message to `buffer`.
  public static func append(_ message: some ProtoMessage, to buffer: inout [UInt8]) {
    let lengthIndex = buffer.count
    buffer.append(contentsOf: [0, 0, 0, 0])

    message.appendSerialized(to: &buffer)

    let length = UInt32(buffer.count - lengthIndex - 4)
    buffer[lengthIndex] = UInt8(truncatingIfNeeded: length >> 24)
    buffer[lengthIndex + 1] = UInt8(truncatingIfNeeded: length >> 16)
    buffer[lengthIndex + 2] = UInt8(truncatingIfNeeded: length >> 8)
    buffer[lengthIndex + 3] = UInt8(truncatingIfNeeded: length)
  }
}
