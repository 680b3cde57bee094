/// Scratch memory for building one protobuf-c message to pack: every allocation is freed at
/// once when the arena goes away, so building a message costs no per-field `free`.
public struct ProtoArena: ~Copyable {
  private var cursor: UnsafeMutableRawPointer
  private var remaining: Int
  private var owned: [UnsafeMutableRawPointer] = []

  private static let alignment = 16
  private static let chunkSize = 4096

  /// Creates an arena that first uses caller-provided memory, such as a stack buffer.
  public init(initial: UnsafeMutableRawBufferPointer) {
    cursor = initial.baseAddress!
    remaining = initial.count
  }

  deinit {
    for chunk in owned {
      chunk.deallocate()
    }
  }

  /// Uninitialised memory of at least `byteCount` bytes, aligned for any C type.
  public mutating func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
    let size = (max(byteCount, 1) + Self.alignment - 1) & ~(Self.alignment - 1)
    if size > remaining {
      let chunk = max(size, Self.chunkSize)
      let memory = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: Self.alignment)
      owned.append(memory)
      if size >= Self.chunkSize {
        return memory
      }
      cursor = memory
      remaining = chunk
    }
    let result = cursor
    cursor += size
    remaining -= size
    return result
  }
}
