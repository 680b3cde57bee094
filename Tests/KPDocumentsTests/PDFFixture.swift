/// Builds small, valid PDF files by hand: one page per string, each drawn in Helvetica, with a
/// correct cross-reference table, so tests need no PDF on disk.
enum PDFFixture {
  /// A PDF whose pages show the given lines (one array of lines per page).
  static func document(pages: [[String]], title: String? = nil) -> [UInt8] {
    var objects: [String] = []
    let pageCount = pages.count
    // 1: catalog, 2: page tree, 3: font, then per page a page object and a content stream,
    // then optionally the info dictionary.
    let kids = (0..<pageCount).map { "\(4 + 2 * $0) 0 R" }.joined(separator: " ")
    objects.append("<< /Type /Catalog /Pages 2 0 R >>")
    objects.append("<< /Type /Pages /Kids [\(kids)] /Count \(pageCount) >>")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for (index, lines) in pages.enumerated() {
      let contentNumber = 5 + 2 * index
      objects.append(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
          + "/Resources << /Font << /F1 3 0 R >> >> /Contents \(contentNumber) 0 R >>")
      var stream = "BT /F1 12 Tf 72 720 Td 14 TL\n"
      for line in lines {
        stream += "(\(line)) Tj T*\n"
      }
      stream += "ET"
      objects.append("<< /Length \(stream.utf8.count) >>\nstream\n\(stream)\nendstream")
    }
    var infoNumber: Int?
    if let title {
      objects.append("<< /Title (\(title)) >>")
      infoNumber = objects.count
    }

    var file = "%PDF-1.4\n"
    var offsets: [Int] = []
    for (index, body) in objects.enumerated() {
      offsets.append(file.utf8.count)
      file += "\(index + 1) 0 obj\n\(body)\nendobj\n"
    }
    let xrefOffset = file.utf8.count
    file += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
    for offset in offsets {
      let digits = String(offset)
      file += String(repeating: "0", count: 10 - digits.count) + digits + " 00000 n \n"
    }
    let info = infoNumber.map { " /Info \($0) 0 R" } ?? ""
    file += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R\(info) >>\n"
    file += "startxref\n\(xrefOffset)\n%%EOF\n"
    return Array(file.utf8)
  }
}
