import KPRPC

/// libFuzzer's entry point: every input goes through the frame and envelope decoders, and the
/// runtime's envelope codec must read it exactly as the generic protobuf-c path does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  guard let data else { return 0 }
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  WireInputExercise.run(bytes)
  precondition(
    WireInputExercise.codecsAgree(bytes),
    "the envelope codec and the generic protobuf-c path read this input differently")
  return 0
}
