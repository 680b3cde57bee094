import Synchronization

/// A position shared by the workers, so they take the HTTPS connections in turn.
final class RoundRobin: Sendable {
  private let value = Atomic<Int>(0)

  /// An index for the next request, counting up from 0.
  func next() -> Int {
    value.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
  }
}
