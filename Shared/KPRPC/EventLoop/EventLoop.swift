import CSystem
import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Something an event loop tells when its descriptor is ready.
public protocol EventLoopHandler: AnyObject {
  /// Called on the loop's thread with the ready epoll event bits (`EPOLLIN`, `EPOLLOUT`, …).
  func handleEvents(_ events: UInt32)
}

/// Something with buffered output that the loop flushes once per turn.
public protocol EventLoopFlushable: AnyObject {
  /// Called on the loop's thread after the turn's events and jobs have run.
  func flushScheduledOutput()
}

/// One thread running epoll: sockets, timers, and work submitted from other threads.
///
/// Everything registered with a loop is touched only on the loop's thread. Other threads hand
/// it work with `execute(_:)`. The loop is also a task executor, so a task started with it as
/// its executor preference runs on the loop's thread and can touch its connections directly.
public final class EventLoop: @unchecked Sendable {
  private enum Job {
    case closure(@Sendable () -> Void)
    case task(UnownedJob)
  }

  private struct Queue {
    var jobs: [Job] = []
    var wakePending = false
  }

  private let epollDescriptor: Int32
  private let wakeDescriptor: Int32
  private let queue = Mutex<Queue>(Queue())
  private let stopRequested = Atomic<Bool>(false)
  private let busyPollNanoseconds = Atomic<Int64>(0)
  private let pollCount = Atomic<Int>(0)
  private nonisolated(unsafe) var threadID = pthread_t()
  private let started = DispatchSemaphore(value: 0)
  private let finished = DispatchSemaphore(value: 0)

  // Loop-thread state.
  private var handlers: [Int32: any EventLoopHandler] = [:]
  private var timers = TimerHeap()
  private var timerSequence: UInt64 = 0
  private var flushList: [any EventLoopFlushable] = []
  private var flushing: [any EventLoopFlushable] = []
  private var runningJobs: [Job] = []

  /// A scratch buffer for socket reads, used only on the loop's thread.
  public let readBuffer = UnsafeMutableRawBufferPointer.allocate(
    byteCount: 64 * 1024, alignment: 16)

  /// A name for the loop's thread, for debugging.
  public let name: String

  /// Starts a loop on a thread of its own.
  public init(name: String) {
    self.name = name
    epollDescriptor = epoll_create1(Int32(EPOLL_CLOEXEC))
    precondition(epollDescriptor >= 0, "epoll_create1 failed: errno \(kp_errno())")
    wakeDescriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
    precondition(wakeDescriptor >= 0, "eventfd failed: errno \(kp_errno())")

    var event = epoll_event()
    event.events = EPOLLIN.rawValue
    event.data.fd = wakeDescriptor
    epoll_ctl(epollDescriptor, EPOLL_CTL_ADD, wakeDescriptor, &event)

    // A plain pthread: the runtime does not need Foundation, which costs several megabytes
    // of resident memory in every process that loads it.
    let box = Unmanaged.passRetained(self).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setstacksize(&attributes, 1 << 20)
    var thread = pthread_t()
    let created = pthread_create(
      &thread, &attributes,
      { argument in
        guard let argument else { return nil }
        let loop = Unmanaged<EventLoop>.fromOpaque(argument).takeRetainedValue()
        loop.threadMain()
        return nil
      }, box)
    pthread_attr_destroy(&attributes)
    precondition(created == 0, "pthread_create failed: \(created)")
    pthread_detach(thread)
    started.wait()
  }

  /// How long the loop keeps polling its descriptors after a turn that did work before it
  /// sleeps in the kernel. Default: zero, never poll.
  ///
  /// A thread asleep in `epoll_wait` costs a wake-up when the next frame arrives: tens of
  /// microseconds on a virtual machine whose idle processor halts. A loop that polls for a
  /// little while after each turn answers the next frame of a conversation without that cost,
  /// at the price of the processor time spent polling: at most this long after each turn
  /// that did work (a frame, a job or a timer, keepalive pings included), and nothing while
  /// the loop is idle for longer. Read by the loop on every turn, so a change takes effect at
  /// once. Whole microseconds, at most one second.
  public var busyPoll: Duration {
    get { .nanoseconds(busyPollNanoseconds.load(ordering: .relaxed)) }
    set {
      let microseconds = min(newValue.nonNegativeMicroseconds, 1_000_000)
      busyPollNanoseconds.store(Int64(microseconds) * 1000, ordering: .relaxed)
    }
  }

  /// How many times the loop has polled instead of sleeping, for tests.
  var busyPollCount: Int { pollCount.load(ordering: .relaxed) }

  /// Whether the caller is running on this loop's thread.
  public var inEventLoop: Bool { pthread_equal(pthread_self(), threadID) != 0 }

  /// Runs `work` on the loop's thread: soon, in the order submitted.
  public func execute(_ work: @escaping @Sendable () -> Void) {
    enqueue(.closure(work))
  }

  /// Runs `work` now when called on the loop's thread, otherwise as `execute(_:)`.
  public func executeSoon(_ work: @escaping @Sendable () -> Void) {
    if inEventLoop { work() } else { enqueue(.closure(work)) }
  }

  private func enqueue(_ job: Job) {
    let mustWake = queue.withLock { state -> Bool in
      state.jobs.append(job)
      if state.wakePending { return false }
      state.wakePending = true
      return true
    }
    if mustWake && !inEventLoop { wake() }
  }

  private func wake() {
    var one: UInt64 = 1
    _ = withUnsafeBytes(of: &one) { write(wakeDescriptor, $0.baseAddress, 8) }
  }

  /// Schedules `work` on the loop's thread after `delay`. Call on the loop's thread.
  @discardableResult
  public func scheduleTimer(after delay: Duration, _ work: @escaping () -> Void)
    -> ScheduledTimer
  {
    scheduleTimer(at: MonotonicInstant.now().advanced(by: delay), work)
  }

  /// Schedules `work` on the loop's thread at `deadline`. Call on the loop's thread.
  @discardableResult
  public func scheduleTimer(at deadline: MonotonicInstant, _ work: @escaping () -> Void)
    -> ScheduledTimer
  {
    timerSequence &+= 1
    let timer = ScheduledTimer(
      deadline: deadline, sequence: timerSequence, loop: self, work: work)
    timers.insert(timer)
    return timer
  }

  /// Takes a cancelled timer out of the heap. Call on the loop's thread.
  func removeTimer(_ timer: ScheduledTimer) {
    timers.remove(timer)
  }

  /// The number of timers scheduled and not yet removed, for tests.
  var scheduledTimerCount: Int { timers.count }

  /// Watches a descriptor for the given epoll events. Call on the loop's thread.
  public func register(_ descriptor: Int32, events: UInt32, handler: any EventLoopHandler)
    -> Bool
  {
    var event = epoll_event()
    event.events = events
    event.data.fd = descriptor
    guard epoll_ctl(epollDescriptor, EPOLL_CTL_ADD, descriptor, &event) == 0 else {
      return false
    }
    handlers[descriptor] = handler
    return true
  }

  /// Changes the events watched on a registered descriptor. Call on the loop's thread.
  public func modify(_ descriptor: Int32, events: UInt32) {
    var event = epoll_event()
    event.events = events
    event.data.fd = descriptor
    epoll_ctl(epollDescriptor, EPOLL_CTL_MOD, descriptor, &event)
  }

  /// Stops watching a descriptor. Call on the loop's thread, before closing it.
  public func deregister(_ descriptor: Int32) {
    epoll_ctl(epollDescriptor, EPOLL_CTL_DEL, descriptor, nil)
    handlers[descriptor] = nil
  }

  /// Asks for `flushScheduledOutput()` at the end of this turn. Call on the loop's thread.
  public func scheduleFlush(_ flushable: any EventLoopFlushable) {
    flushList.append(flushable)
  }

  /// Stops the loop after its current turn and waits for its thread to end.
  ///
  /// Registered descriptors are not closed; their owners close them first.
  public func shutdown() {
    stopRequested.store(true, ordering: .releasing)
    wake()
    if !inEventLoop { finished.wait() }
  }

  private func threadMain() {
    threadID = pthread_self()
    kp_set_thread_name(name)
    started.signal()
    runLoop()
    finished.signal()
  }

  private func runLoop() {
    let capacity = 256
    let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
    defer {
      events.deallocate()
      close(epollDescriptor)
      close(wakeDescriptor)
    }

    // When the last turn that did work ended, while busy polling is on; zero otherwise. The
    // budget is read afresh each turn, so a change takes effect at once.
    var lastWork: UInt64 = 0
    while !stopRequested.load(ordering: .acquiring) {
      var timeout = waitTimeoutMilliseconds()
      if timeout != 0 && lastWork != 0 {
        let budget = UInt64(busyPollNanoseconds.load(ordering: .relaxed))
        if MonotonicInstant.now().nanoseconds &- lastWork < budget {
          timeout = 0
          pollCount.add(1, ordering: .relaxed)
        } else {
          lastWork = 0
        }
      }

      let ready = epoll_wait(epollDescriptor, events, Int32(capacity), timeout)
      var worked = ready > 0
      if ready > 0 {
        for index in 0..<Int(ready) {
          let descriptor = events[index].data.fd
          let bits = events[index].events
          if descriptor == wakeDescriptor {
            var value: UInt64 = 0
            _ = withUnsafeMutableBytes(of: &value) { read(wakeDescriptor, $0.baseAddress, 8) }
          } else {
            handlers[descriptor]?.handleEvents(bits)
          }
        }
      }

      worked = runExpiredTimers() || worked
      worked = runQueuedJobs() || worked
      runFlushes()

      if worked && busyPollNanoseconds.load(ordering: .relaxed) > 0 {
        lastWork = MonotonicInstant.now().nanoseconds
      }
    }
  }

  private func waitTimeoutMilliseconds() -> Int32 {
    let hasJobs = queue.withLock { !$0.jobs.isEmpty }
    if hasJobs || !flushList.isEmpty { return 0 }
    while let earliest = timers.earliest, earliest.isDone { _ = timers.popEarliest() }
    guard let earliest = timers.earliest else { return -1 }

    let now = MonotonicInstant.now()
    guard earliest.deadline > now else { return 0 }
    let millis = (earliest.deadline.nanoseconds - now.nanoseconds + 999_999) / 1_000_000
    return Int32(min(millis, 60_000))
  }

  /// Runs the timers that are due; returns whether any ran.
  private func runExpiredTimers() -> Bool {
    let now = MonotonicInstant.now()
    var ran = false
    while let earliest = timers.earliest, earliest.deadline <= now || earliest.isDone {
      _ = timers.popEarliest()
      if let work = earliest.work {
        earliest.work = nil
        work()
        ran = true
      }
    }
    return ran
  }

  /// Runs submitted work, a few rounds of it; returns whether there was any.
  private func runQueuedJobs() -> Bool {
    var ran = false
    for _ in 0..<4 {
      // The queue and `runningJobs` trade buffers, so taking the jobs allocates nothing.
      let hasJobs = queue.withLock { state -> Bool in
        state.wakePending = false
        swap(&state.jobs, &runningJobs)
        return !runningJobs.isEmpty
      }
      if !hasJobs { return ran }
      ran = true
      for job in runningJobs {
        switch job {
        case .closure(let work): work()
        case .task(let task): task.runSynchronously(on: asUnownedTaskExecutor())
        }
      }
      runningJobs.removeAll(keepingCapacity: runningJobs.capacity <= 1024)
      runFlushes()
    }
    return ran
  }

  private func runFlushes() {
    while !flushList.isEmpty {
      swap(&flushList, &flushing)
      for item in flushing { item.flushScheduledOutput() }
      flushing.removeAll(keepingCapacity: flushing.capacity <= 1024)
    }
  }
}

extension EventLoop: TaskExecutor {
  public func enqueue(_ job: consuming ExecutorJob) {
    enqueue(.task(UnownedJob(job)))
  }
}
