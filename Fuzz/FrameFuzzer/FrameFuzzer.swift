import KPRPC

/// libFuzzer's entry point: every input goes through the frame and envelope decoders.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  guard let data else { return 0 }
  WireInputExercise.run(UnsafeRawBufferPointer(start: data, count: size))
  return 0
}
