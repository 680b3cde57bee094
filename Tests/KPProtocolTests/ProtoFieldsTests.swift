import KPProtoRuntime
import Testing

/// The field tree is a value: copies share their slots until one of them changes.
@Suite("Field trees")
struct ProtoFieldsTests {
  @Test("a copy keeps its values when the original changes, and the other way round")
  func copiesAreIndependent() {
    var original = ProtoFields(count: 3)
    original[0] = .string("kept")
    var copy = original
    #expect(copy == original)

    copy[0] = .string("changed")
    copy[2] = .list([.uint32(7)])
    #expect(original[0] == .string("kept"))
    #expect(original[2] == nil)
    #expect(copy[0] == .string("changed"))
    #expect(copy != original)

    original[1] = .bool(true)
    #expect(copy[1] == nil)
    #expect(original.values == [.string("kept"), .bool(true), nil])
    #expect(copy.values == [.string("changed"), nil, .list([.uint32(7)])])
  }

  @Test("equal trees compare equal slot by slot; a different count is never equal")
  func equality() {
    let built = ProtoFields(values: [.int64(-1), nil, .bytes([1, 2])])
    var set = ProtoFields(count: 3)
    set[0] = .int64(-1)
    set[2] = .bytes([1, 2])
    #expect(built == set)
    #expect(built.count == 3)
    #expect(ProtoFields(count: 2) != ProtoFields(count: 3))
    #expect(ProtoFields(count: 0) == ProtoFields(values: []))
    // Reading past the last field gives an absent value, as for a field the message lacks.
    #expect(built[7] == nil)
  }

  @Test("a nested tree inside a value is copied with it")
  func nested() {
    var inner = ProtoFields(count: 1)
    inner[0] = .uint64(1)
    var outer = ProtoFields(count: 1)
    outer[0] = .message(inner)
    inner[0] = .uint64(2)
    #expect(outer[0] == .message(ProtoFields(values: [.uint64(1)])))
  }
}
