import Foundation
import KPProtocol
import KPRPC
import Testing

@testable import Ingest

/// Documents that cannot be ingested are refused one by one, with a code and a reason, while
/// the rest of their batch is stored; hostile documents neither crash the service nor run away
/// with its memory.
@Suite("kp-ingest with bad documents", .serialized)
struct IngestBadInputTests {
  typealias Harness = IngestHarness

  /// The peak resident memory of this process, in bytes (`VmHWM`).
  private static func peakResidentBytes() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
      let digits = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
      return digits * 1024
    }
    return 0
  }

  @Test("each bad document is refused alone with its code; the rest of the batch is stored")
  func badDocuments() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant("acme")
      var noAccess = Harness.document("no-access", "Nobody could read this.")
      noAccess.tenantWide = false
      var noOperation = Harness.document("no-operation", "Neither upsert nor delete.")
      noOperation.operation = .unspecified
      var noSource = Harness.document("no-source", "Where from?")
      noSource.source = ""
      let batch = [
        Harness.document("good-1", "The first good document mentions meerkat."),
        Harness.document("unknown-type", "data", type: "application/x-unknown"),
        Harness.document("bad-utf8", bytes: [0x48, 0x69, 0xFF, 0xFE, 0x21]),
        Harness.document("empty", ""),
        Harness.document("blank", "   \n\n  "),
        Harness.document(
          "bad-pdf", bytes: Array("%PDF-1.7\n1 0 obj <<".utf8), type: "application/pdf"),
        Harness.document(
          "noise-pdf", bytes: (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) },
          type: "application/pdf"),
        noAccess, noOperation, noSource,
        Harness.document("good-2", "The second good document mentions mongoose."),
      ]
      let job = try await harness.ingest(tenant, key: "mixed", batch)
      #expect(job.state == .partiallyFailed)
      #expect(job.total == 11 && job.processed == 11 && job.stored == 2 && job.failed == 9)
      let codes = Dictionary(
        job.errors.map { ($0.externalId, $0.code) }, uniquingKeysWith: { first, _ in first })
      #expect(codes["unknown-type"] == "unsupported_type")
      #expect(codes["bad-utf8"] == "invalid_utf8")
      #expect(codes["empty"] == "empty")
      #expect(codes["blank"] == "empty")
      #expect(codes["bad-pdf"] == "malformed")
      #expect(codes["noise-pdf"] == "malformed")
      #expect(codes["no-access"] == "missing_access")
      #expect(codes["no-operation"] == "invalid_operation")
      #expect(codes["no-source"] == "invalid_document")
      for error in job.errors { #expect(!error.message.isEmpty) }
      #expect(try await harness.search(tenant, "meerkat").hits.count == 1)
      #expect(try await harness.search(tenant, "mongoose").hits.count == 1)
      #expect(try await harness.stats(tenant).documents == 2)
    }
  }

  @Test("a document over the plan's size limit is refused naming the limit")
  func oversize() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant("acme", maximumDocumentBytes: 10_000)
      let job = try await harness.ingest(
        tenant, key: "sizes",
        [
          Harness.document("big", String(repeating: "x", count: 10_001)),
          Harness.document("fits", "A document that fits mentions platypus."),
        ])
      #expect(job.state == .partiallyFailed && job.stored == 1 && job.failed == 1)
      let error = try #require(job.errors.first)
      #expect(error.externalId == "big" && error.code == "too_large")
      #expect(error.message.contains("max_document_bytes") && error.message.contains("10000"))
      #expect(try await harness.search(tenant, "platypus").hits.count == 1)
    }
  }

  @Test("deeply nested and huge HTML is stored without running away with memory")
  func hostileHTML() async throws {
    try await Harness.with { harness in
      let tenant = try await harness.makeTenant("acme")
      let depth = 40_000
      let deep =
        String(repeating: "<div>", count: depth) + "Deep inside lives the axolotl."
        + String(repeating: "</div>", count: depth)
      let unclosed = String(repeating: "<span><b><i>", count: 30_000) + "Unclosed tapir."
      let huge =
        "<html><body>"
        + (0..<8_000).map { "<p>Paragraph \($0) about capybara.</p>" }.joined()
        + "</body></html>"
      let baseline = Self.peakResidentBytes()
      let job = try await harness.ingest(
        tenant, key: "hostile",
        [
          Harness.document("deep", deep, type: "text/html"),
          Harness.document("unclosed", unclosed, type: "text/html"),
          Harness.document("huge", huge, type: "text/html"),
        ])
      let growth = Self.peakResidentBytes() - baseline
      #expect(job.state == .succeeded && job.stored == 3, "\(job.errors)")
      #expect(growth < 400 << 20, "peak memory grew by \(growth >> 20) MiB")
      #expect(try await harness.search(tenant, "axolotl").hits.count == 1)
      #expect(try await harness.search(tenant, "tapir").hits.count == 1)
      #expect(try await harness.search(tenant, "capybara").hits.count == 1)
      let stats = try await harness.stats(tenant)
      #expect(stats.documents == 3 && stats.chunks > 100)
    }
  }
}
