/// A timer scheduled on an event loop. Cancel it on the loop's thread.
public final class ScheduledTimer: @unchecked Sendable {
  let deadline: MonotonicInstant
  let sequence: UInt64
  var work: (() -> Void)?
  /// The timer's position in its loop's heap; -1 when not in it.
  var heapIndex = -1
  private unowned let loop: EventLoop

  init(
    deadline: MonotonicInstant, sequence: UInt64, loop: EventLoop, work: @escaping () -> Void
  ) {
    self.deadline = deadline
    self.sequence = sequence
    self.loop = loop
    self.work = work
  }

  /// Stops the timer from firing and removes it from the loop's heap. Call it on the loop's
  /// thread; from elsewhere the timer is only disarmed and leaves the heap when due.
  public func cancel() {
    work = nil
    if heapIndex >= 0 && loop.inEventLoop { loop.removeTimer(self) }
  }

  /// Whether the timer was cancelled or has fired.
  public var isDone: Bool { work == nil }
}

/// A binary min-heap of timers ordered by deadline, then by the order they were scheduled.
///
/// Each timer knows its index, so a cancelled timer leaves the heap at once instead of
/// lingering until its deadline: a busy connection cancels a deadline timer per call.
struct TimerHeap {
  private var items: [ScheduledTimer] = []

  var isEmpty: Bool { items.isEmpty }
  var count: Int { items.count }
  var earliest: ScheduledTimer? { items.first }

  mutating func insert(_ timer: ScheduledTimer) {
    items.append(timer)
    timer.heapIndex = items.count - 1
    siftUp(items.count - 1)
  }

  mutating func popEarliest() -> ScheduledTimer? {
    guard !items.isEmpty else { return nil }
    return remove(at: 0)
  }

  mutating func remove(_ timer: ScheduledTimer) {
    let index = timer.heapIndex
    guard index >= 0, index < items.count, items[index] === timer else { return }
    _ = remove(at: index)
  }

  private mutating func remove(at index: Int) -> ScheduledTimer {
    let removed = items[index]
    let last = items.count - 1
    if index != last {
      swap(index, last)
    }
    items.removeLast()
    removed.heapIndex = -1
    if index < items.count {
      siftDown(index)
      siftUp(index)
    }
    return removed
  }

  private mutating func swap(_ a: Int, _ b: Int) {
    items.swapAt(a, b)
    items[a].heapIndex = a
    items[b].heapIndex = b
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
      swap(child, parent)
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
      swap(parent, best)
      parent = best
    }
  }
}
