/// Latencies in nanoseconds, in log-linear buckets of bounded relative width (HDR style).
///
/// Values below 2^``precisionBits`` nanoseconds each have a bucket of their own. Above that,
/// every power-of-two range `[2^e, 2^(e+1))` is split into 2^``precisionBits`` equal buckets, so
/// a bucket is never wider than 1/128 of its lower bound. A percentile is reported as the middle
/// of its bucket, clamped to the smallest and largest value recorded, so it is within 0.4% of
/// the recorded value of the same rank (and the maximum and minimum are exact). Memory is
/// constant: 4,736 counters whatever is recorded; values from 2^43 ns (about 2.4 hours) count
/// in the last bucket.
struct LatencyHistogram: Sendable, Equatable {
  /// Bits of precision within each power of two: 7, so 128 buckets per doubling.
  static let precisionBits = 7
  /// The largest power of two split into buckets: `[2^42, 2^43)` ns is the last range.
  static let maximumExponent = 42
  /// The largest relative error of a reported percentile: half a bucket, 1/256.
  static let relativeError = 1.0 / Double(1 << (precisionBits + 1))

  private static let subBuckets = 1 << precisionBits
  private static let bucketCount = (maximumExponent - precisionBits + 2) * subBuckets

  private var counts = [UInt64](repeating: 0, count: LatencyHistogram.bucketCount)

  /// How many values were recorded.
  private(set) var count: UInt64 = 0
  /// The smallest value recorded, 0 when none was.
  private(set) var minimum: UInt64 = 0
  /// The largest value recorded, 0 when none was.
  private(set) var maximum: UInt64 = 0
  /// The sum of every value, for the mean.
  private(set) var sum: Double = 0

  /// An empty histogram.
  init() {}

  /// Records one value.
  ///
  /// - Parameter nanoseconds: The latency.
  mutating func record(_ nanoseconds: UInt64) {
    counts[Self.index(of: nanoseconds)] += 1
    minimum = count == 0 ? nanoseconds : Swift.min(minimum, nanoseconds)
    maximum = Swift.max(maximum, nanoseconds)
    count += 1
    sum += Double(nanoseconds)
  }

  /// Records one duration; negative durations count as zero.
  mutating func record(_ duration: Duration) {
    let (seconds, attoseconds) = duration.components
    guard seconds >= 0, attoseconds >= 0 else {
      record(UInt64(0))
      return
    }
    let nanoseconds = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
    let total = nanoseconds.partialValue.addingReportingOverflow(
      UInt64(attoseconds / 1_000_000_000))
    record(nanoseconds.overflow || total.overflow ? UInt64.max : total.partialValue)
  }

  /// Adds every value of another histogram.
  mutating func merge(_ other: LatencyHistogram) {
    guard other.count > 0 else { return }
    for index in counts.indices { counts[index] += other.counts[index] }
    minimum = count == 0 ? other.minimum : Swift.min(minimum, other.minimum)
    maximum = Swift.max(maximum, other.maximum)
    count += other.count
    sum += other.sum
  }

  /// The value at a quantile: the smallest recorded value with at least `quantile` of the
  /// values at or below it, within ``relativeError``. 0 for an empty histogram.
  ///
  /// - Parameter quantile: From 0 to 1, such as 0.99.
  func value(atQuantile quantile: Double) -> UInt64 {
    guard count > 0 else { return 0 }
    if quantile >= 1 { return maximum }
    let rank = Swift.max(1, UInt64((quantile * Double(count)).rounded(.up)))
    guard rank < count else { return maximum }

    var seen: UInt64 = 0
    for (index, bucketCount) in counts.enumerated() where bucketCount > 0 {
      seen += bucketCount
      if seen >= rank {
        let (low, high) = Self.bounds(of: index)
        let middle = low + (high - low) / 2
        return Swift.min(Swift.max(middle, minimum), maximum)
      }
    }
    return maximum
  }

  /// The mean value, 0 for an empty histogram.
  var mean: Double { count == 0 ? 0 : sum / Double(count) }

  /// The bucket a value falls in.
  static func index(of value: UInt64) -> Int {
    guard value >= UInt64(subBuckets) else { return Int(value) }
    guard value < UInt64(1) << UInt64(maximumExponent + 1) else { return bucketCount - 1 }
    let exponent = 63 - value.leadingZeroBitCount
    let shift = exponent - precisionBits
    let sub = Int(value >> UInt64(shift)) - subBuckets
    return (shift + 1) * subBuckets + sub
  }

  /// The lowest and highest value of a bucket.
  static func bounds(of index: Int) -> (low: UInt64, high: UInt64) {
    guard index >= subBuckets else { return (UInt64(index), UInt64(index)) }
    let shift = index / subBuckets - 1
    let sub = index % subBuckets
    let low = UInt64(subBuckets + sub) << UInt64(shift)
    return (low, low + (UInt64(1) << UInt64(shift)) - 1)
  }
}
