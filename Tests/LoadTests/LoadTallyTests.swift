import Testing

@testable import Load

/// Tallies, ledgers and the budget the workers share.
@Suite("Load tallies")
struct LoadTallyTests {
  @Test("a tally counts by operation and status and merges exactly")
  func tallies() {
    var first = LoadTally()
    first.record(
      .search, CallOutcome(call: "s", code: "OK", documentIDs: ["d1"]), latency: .milliseconds(2))
    first.record(.search, CallOutcome(call: "s", code: "OK"), latency: .milliseconds(4))
    first.record(.get, CallOutcome(call: "g", code: "NOT_FOUND"), latency: .milliseconds(1))
    var second = LoadTally()
    second.record(.ingest, CallOutcome(call: "i", code: "UNAVAILABLE"), latency: .milliseconds(8))
    second.record(.get, CallOutcome(call: "g", code: "OK"), latency: .milliseconds(3))

    var merged = first
    merged.merge(second)
    #expect(merged.requests == 5 && merged.ok == 3)
    #expect(merged.errors == ["NOT_FOUND": 1, "UNAVAILABLE": 1])
    #expect(merged.requests(of: .get) == 2 && merged.ok(of: .get) == 1)
    #expect(merged.emptySearches == 1)
    #expect(merged.latency.count == 5 && merged.latency.maximum == 8_000_000)
  }

  @Test("the budget gives out exactly its limit across tasks")
  func budget() async {
    let budget = RequestBudget(limit: 1000)
    let claimed = await withTaskGroup(of: Int.self) { group in
      for _ in 0..<8 {
        group.addTask {
          var count = 0
          while budget.claim() { count += 1 }
          return count
        }
      }
      return await group.reduce(0, +)
    }
    #expect(claimed == 1000 && budget.isExhausted)
  }

  @Test("a seed repeats its sequence; another seed or stream does not")
  func seeds() {
    var a = SeededGenerator(seed: 5, stream: 1)
    var b = SeededGenerator(seed: 5, stream: 1)
    var c = SeededGenerator(seed: 5, stream: 2)
    let first = (0..<8).map { _ in a.next() }
    #expect(first == (0..<8).map { _ in b.next() })
    #expect(first != (0..<8).map { _ in c.next() })
  }
}
