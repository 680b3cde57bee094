/// A timer scheduled on an event loop. Cancel it on the loop's thread.
public final class ScheduledTimer: @unchecked Sendable {
  let deadline: MonotonicInstant
  let sequence: UInt64
  var work: (() -> Void)?

  init(deadline: MonotonicInstant, sequence: UInt64, work: @escaping () -> Void) {
    self.deadline = deadline
    self.sequence = sequence
    self.work = work
  }

  /// Stops the timer from firing. Must be called on the loop that scheduled it.
  public func cancel() { work = nil }

  /// Whether the timer was cancelled or has fired.
  public var isDone: Bool { work == nil }
}

/// A binary min-heap of timers ordered by deadline, then by the order they were scheduled.
struct TimerHeap {
  private var items: [ScheduledTimer] = []

  var isEmpty: Bool { items.isEmpty }
  var earliest: ScheduledTimer? { items.first }

  mutating func insert(_ timer: ScheduledTimer) {
    items.append(timer)
    siftUp(items.count - 1)
  }

  mutating func popEarliest() -> ScheduledTimer? {
    guard !items.isEmpty else { return nil }
    items.swapAt(0, items.count - 1)
    let timer = items.removeLast()
    if !items.isEmpty { siftDown(0) }
    return timer
  }

  private func precedes(_ a: Int, _ b: Int) -> Bool {
    let lhs = items[a]
    let rhs = items[b]
    return lhs.deadline == rhs.deadline
      ? lhs.sequence < rhs.sequence : lhs.deadline < rhs.deadline
  }

  private mutating func siftUp(_ start: Int) {
    var child = start
    while child > 0 {
      let parent = (child - 1) / 2
      guard precedes(child, parent) else { return }
      items.swapAt(child, parent)
      child = parent
    }
  }

  private mutating func siftDown(_ start: Int) {
    var parent = start
    while true {
      let left = 2 * parent + 1
      let right = left + 1
      var best = parent
      if left < items.count && precedes(left, best) { best = left }
      if right < items.count && precedes(right, best) { best = right }
      guard best != parent else { return }
      items.swapAt(parent, best)
      parent = best
    }
  }
}
