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
          envelopes.append(try Kp_Wire_V1_Envelope(serializedBytes: frame))
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
}
