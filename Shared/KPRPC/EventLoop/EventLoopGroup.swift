import Synchronization

/// A fixed set of event loops; connections are spread across them in turn.
public final class EventLoopGroup: Sendable {
  /// The loops.
  public let loops: [EventLoop]
  private let nextIndex = Atomic<Int>(0)

  /// Starts `loopCount` loops (default: one per processor core).
  public init(loopCount: Int = System.coreCount, name: String = "kp-loop") {
    loops = (0..<max(1, loopCount)).map { EventLoop(name: "\(name)-\($0)") }
  }

  /// How long each loop polls after a turn that did work before it sleeps; see
  /// ``EventLoop/busyPoll``. Default: zero, never poll. Setting it sets every loop's.
  public var busyPoll: Duration {
    get { loops[0].busyPoll }
    set { for loop in loops { loop.busyPoll = newValue } }
  }

  /// The loop to use for the next connection.
  public func next() -> EventLoop {
    let index = nextIndex.add(1, ordering: .relaxed).oldValue
    return loops[index % loops.count]
  }

  /// Stops every loop.
  public func shutdown() {
    for loop in loops { loop.shutdown() }
  }

  /// A group shared by everything in the process that does not bring its own.
  public static let shared = EventLoopGroup()
}

/// Facts about the machine.
public enum System {
  /// The number of processor cores available to this process.
  public static var coreCount: Int {
    #if canImport(Glibc)
      return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    #else
      return 2
    #endif
  }
}

#if canImport(Glibc)
  import Glibc
#endif
