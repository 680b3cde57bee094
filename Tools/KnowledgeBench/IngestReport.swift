import Foundation

/// bench/ingest's table and JSON line.
struct IngestReport {
  let result: IngestBench.Result

  func print() {
    let rounds = result.rounds
    let ingestSeconds = Latency.percentile(rounds.map(\.ingestSeconds), 0.5)
    let copySeconds = Latency.percentile(rounds.map(\.copySeconds), 0.5)
    let upsertSeconds = Latency.percentile(rounds.map(\.upsertSeconds), 0.5)
    let upsertRate = upsertSeconds > 0 ? Double(result.documents) / upsertSeconds : 0
    let documents = Double(result.documents)
    let ingestRate = ingestSeconds > 0 ? documents / ingestSeconds : 0
    let copyRate = copySeconds > 0 ? documents / copySeconds : 0
    let ingestMB = ingestSeconds > 0 ? result.textMegabytes / ingestSeconds : 0
    let copyMB = copySeconds > 0 ? result.textMegabytes / copySeconds : 0
    let ratio = copyRate > 0 ? ingestRate / copyRate : 0
    let stored = rounds.map(\.stored).min() ?? 0
    let failed = rounds.map(\.failed).max() ?? 0

    Swift.print(
      "corpus: \(result.documents) HTML pages, \(fixed(result.rawMegabytes, 1)) MB raw, "
        + "\(fixed(result.textMegabytes, 1)) MB normalised text, \(result.chunks) chunks; "
        + "median of \(rounds.count) rounds; stored by ingest: \(stored), refused: \(failed)")
    let widths = [40, 18, 18, 10]
    Swift.print(row(["figure", "kp-ingest e2e", "raw COPY", "ratio"], widths: widths))
    Swift.print(
      row(
        ["seconds", fixed(ingestSeconds, 2), fixed(copySeconds, 2), ""], widths: widths))
    Swift.print(
      row(
        ["documents/s", fixed(ingestRate, 1), fixed(copyRate, 1), fixed(ratio, 2)],
        widths: widths))
    Swift.print(
      row(
        ["MB/s of normalised text", fixed(ingestMB, 2), fixed(copyMB, 2), fixed(ratio, 2)],
        widths: widths))
    Swift.print(
      row(
        [
          "UpsertDocuments direct: s, docs/s", fixed(upsertSeconds, 2), fixed(upsertRate, 1),
          fixed(copyRate > 0 ? upsertRate / copyRate : 0, 2),
        ], widths: widths))
    Swift.print(
      row(
        ["reading, normalising, chunking: s", fixed(result.normaliseSeconds, 2), "", ""],
        widths: widths))
    Swift.print(
      row(
        [
          "MB/s of raw HTML (ingest only)",
          fixed(ingestSeconds > 0 ? result.rawMegabytes / ingestSeconds : 0, 2), "", "",
        ], widths: widths))

    let figures: [String: Double] = [
      "documents": documents, "raw_mb": result.rawMegabytes, "text_mb": result.textMegabytes,
      "chunks": Double(result.chunks), "ingest_seconds": ingestSeconds,
      "copy_seconds": copySeconds, "ingest_docs_per_s": ingestRate, "copy_docs_per_s": copyRate,
      "ingest_text_mb_per_s": ingestMB, "copy_text_mb_per_s": copyMB,
      "ingest_stored": Double(stored), "ingest_refused": Double(failed),
      "rounds": Double(rounds.count), "upsert_direct_seconds": upsertSeconds,
      "upsert_direct_docs_per_s": upsertRate, "normalise_seconds": result.normaliseSeconds,
    ]
    let target = targetJSON(
      name: "ingest_docs_per_s_vs_copy", value: ratio, peer: 1.0, goal: ">= 0.5",
      met: ratio >= 0.5 && stored == result.documents)
    Swift.print(
      "{\"bench\": \"ingest\", \"figures\": \(figuresJSON(figures)), \"targets\": [\(target)]}")
  }
}
