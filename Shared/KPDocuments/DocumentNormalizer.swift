/// Turns the bytes of one content type into a ``NormalizedDocument``.
///
/// A normaliser is handed only documents within ``NormalizationLimits/maximumInputBytes``
/// (the ``DocumentNormalizerRegistry`` checks that before parsing) and must keep to the other
/// limits itself. It reports a bad document by throwing ``DocumentError``, never by crashing.
public protocol DocumentNormalizer: Sendable {
  /// The media types (lowercased `type/subtype`) this normaliser reads.
  var mediaTypes: [String] { get }

  /// Normalises one document.
  ///
  /// - Parameters:
  ///   - input: The document's bytes and source title.
  ///   - mediaType: The parsed content type, one of ``mediaTypes``.
  ///   - limits: The limits to keep to.
  /// - Returns: The normalised document.
  /// - Throws: ``DocumentError`` naming what is wrong with this document.
  func normalize(
    _ input: DocumentInput,
    as mediaType: MediaType,
    limits: NormalizationLimits
  ) throws(DocumentError) -> NormalizedDocument
}
