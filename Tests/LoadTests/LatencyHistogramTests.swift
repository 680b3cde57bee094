import Foundation
import Testing

@testable import Load

/// The histogram against a sorted array of the same values.
@Suite("Latency histogram")
struct LatencyHistogramTests {
  /// The value of rank ceil(q * n) in sorted values, as the histogram defines a percentile.
  private func reference(_ sorted: [UInt64], _ quantile: Double) -> UInt64 {
    let rank = max(1, Int((quantile * Double(sorted.count)).rounded(.up)))
    return sorted[min(rank, sorted.count) - 1]
  }

  @Test(
    "percentiles are within 1% of a sorted-array reference",
    arguments: [1, 7, 100, 5_000, 50_000])
  func percentilesMatchReference(count: Int) {
    var generator = SeededGenerator(seed: UInt64(count))
    var histogram = LatencyHistogram()
    var values: [UInt64] = []
    for index in 0..<count {
      // Log-uniform from 1 µs to 10 s, with a few exact small values.
      let value =
        index % 97 == 0
        ? UInt64(index % 128)
        : UInt64(exp(Double.random(in: log(1e3)...log(1e10), using: &generator)))
      values.append(value)
      histogram.record(value)
    }
    values.sort()

    #expect(histogram.count == UInt64(count))
    #expect(histogram.minimum == values.first)
    #expect(histogram.maximum == values.last)
    for quantile in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
      let expected = Double(reference(values, quantile))
      let got = Double(histogram.value(atQuantile: quantile))
      #expect(
        abs(got - expected) <= expected * 0.01,
        "q\(quantile): histogram \(got), reference \(expected)")
      #expect(abs(got - expected) <= expected * LatencyHistogram.relativeError + 1)
    }
  }

  @Test("small values are exact and every bucket's bounds hold its values")
  func bucketLayout() {
    for value: UInt64 in 0..<128 {
      #expect(LatencyHistogram.index(of: value) == Int(value))
    }
    var previous = -1
    for exponent in 7..<43 {
      for value in [UInt64(1) << exponent, (UInt64(1) << exponent) + 12_345 % (1 << exponent)] {
        let index = LatencyHistogram.index(of: value)
        let (low, high) = LatencyHistogram.bounds(of: index)
        #expect(low <= value && value <= high)
        #expect(Double(high - low) <= Double(low) / 128)
        #expect(index >= previous)
        previous = index
      }
    }
    let last = LatencyHistogram.index(of: UInt64.max)
    #expect(LatencyHistogram.index(of: UInt64(1) << 50) == last)
  }

  @Test("merging equals recording everything in one histogram")
  func merge() {
    var generator = SeededGenerator(seed: 7)
    var one = LatencyHistogram()
    var parts = [LatencyHistogram(), LatencyHistogram(), LatencyHistogram()]
    for index in 0..<3000 {
      let value = UInt64.random(in: 1_000...50_000_000, using: &generator)
      one.record(value)
      parts[index % 3].record(value)
    }
    var merged = LatencyHistogram()
    for part in parts { merged.merge(part) }
    #expect(merged == one)
    #expect(merged.value(atQuantile: 0.99) == one.value(atQuantile: 0.99))
  }

  @Test("durations record as nanoseconds; an empty histogram reports zeros")
  func durationsAndEmpty() {
    var histogram = LatencyHistogram()
    #expect(histogram.value(atQuantile: 0.5) == 0 && histogram.maximum == 0)
    histogram.record(Duration.milliseconds(250))
    histogram.record(Duration.microseconds(-5))
    #expect(histogram.maximum == 250_000_000)
    #expect(histogram.minimum == 0)
    #expect(histogram.value(atQuantile: 1) == 250_000_000)
  }
}
