import KPProtocol

/// Runs arbitrary bytes through everything that parses a peer's input: the frame decoder, the
/// envelope decoder and a server-side connection state machine.
///
/// The fuzzing target and the tests call it; it must return for every input, never crash.
public enum WireInputExercise {
  /// Feeds `bytes` as if a peer had sent them; returns how many envelopes were decoded.
  @discardableResult
  public static func run(_ bytes: UnsafeRawBufferPointer, maximumFrameSize: Int = 64 * 1024)
    -> Int
  {
    var limits = ConnectionLimits()
    limits.maximumFrameSize = maximumFrameSize
    var decoder = FrameDecoder(maximumFrameSize: maximumFrameSize)
    var machine = ConnectionStateMachine(role: .server, limits: limits)
    var decoded = 0

    // Feed in two parts to exercise frames split across reads.
    let split = bytes.count / 2
    for part in [bytes[..<split], bytes[split...]] {
      decoder.append(UnsafeRawBufferPointer(rebasing: part))
      do {
        var envelopes: [Kp_Wire_V1_Envelope] = []
        while try decoder.nextFrame({ frame in
          envelopes.append(try EnvelopeCodec.decode(frame))
        }) {}
        for envelope in envelopes {
          decoded += 1
          _ = machine.receive(envelope, now: MonotonicInstant(nanoseconds: UInt64(decoded)))
        }
      } catch {
        return decoded
      }
    }
    return decoded
  }

  /// Whether the RPC runtime's envelope codec reads `bytes` exactly as the generic protobuf-c
  /// path does: both refuse them, or both give the same envelope, which also re-encodes to
  /// the same bytes on both paths. The fuzzing target stops on the first input where they
  /// differ.
  public static func codecsAgree(_ bytes: UnsafeRawBufferPointer) -> Bool {
    let fast = try? EnvelopeCodec.decode(bytes)
    let generic = try? Kp_Wire_V1_Envelope(serializedBytes: bytes)
    guard fast == generic else { return false }
    guard let envelope = fast else { return true }

    var encoded: [UInt8] = []
    EnvelopeCodec.append(envelope, to: &encoded)
    var expected: [UInt8] = []
    FrameEncoder.append(envelope, to: &expected)
    return encoded == expected
  }
}
