internal import CProtobufC

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Stack memory for protobuf-c to unpack one message into.
///
/// protobuf-c allocates the message, each nested message, string, byte field and repeated
/// array separately. Unpacked messages are read into Swift values and freed before the caller
/// returns, so their memory can come from a bump allocator over a stack buffer: no `malloc` or
/// `free` per field. What does not fit falls back to `malloc`, and is freed as usual.
///
/// The buffer is at most `stackLimit` bytes: above that, `withUnsafeTemporaryAllocation` asks
/// the runtime whether the thread's stack has room and, on threads such as the event loops',
/// allocates on the heap instead, which costs more than the allocations the buffer saves.
public enum ProtoUnpackScratch {
  /// The largest temporary allocation the standard library always places on the stack.
  public static let stackLimit = 1024

  private struct Bump {
    let start: UnsafeMutableRawPointer
    let end: UnsafeMutableRawPointer
    var cursor: UnsafeMutableRawPointer
  }

  /// Calls `body` with a `ProtobufCAllocator *` over `byteCount` bytes of stack memory. The
  /// memory is gone when `body` returns: free everything unpacked with it before then.
  ///
  /// Not generic, so that callers in other modules do not instantiate generic metadata on
  /// every call: `body` passes its result out through a variable it captures.
  public static func with(byteCount: Int = stackLimit, _ body: (UnsafeMutableRawPointer) -> Void) {
    withUnsafeTemporaryAllocation(byteCount: min(byteCount, stackLimit), alignment: 16) {
      scratch in
      let start = scratch.baseAddress!
      var bump = Bump(start: start, end: start + scratch.count, cursor: start)
      return withUnsafeMutablePointer(to: &bump) { bump in
        var allocator = ProtobufCAllocator(
          alloc: { data, size in
            let bump = data!.assumingMemoryBound(to: Bump.self)
            let rounded = (size + 15) & ~15
            guard bump.pointee.end - bump.pointee.cursor >= rounded else { return malloc(size) }
            let memory = bump.pointee.cursor
            bump.pointee.cursor += rounded
            return memory
          },
          free: { data, pointer in
            guard let pointer else { return }
            let bump = data!.assumingMemoryBound(to: Bump.self)
            if pointer >= bump.pointee.start && pointer < bump.pointee.end { return }
            free(pointer)
          },
          allocator_data: UnsafeMutableRawPointer(bump))
        return withUnsafeMutablePointer(to: &allocator) { body(UnsafeMutableRawPointer($0)) }
      }
    }
  }
}
