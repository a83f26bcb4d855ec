import Foundation

/// The committee detail response `{"committee": {...}, "request": {...}}`, loosely modelled.
///
/// Decode with ``CongressAPIDocument/decode(from:source:)``; failures throw a ``CongressDecodingError``
/// naming the source and the field's coding path.
public struct CommitteeDetailResponse: CongressAPIDocument {
    /// The committee.
    public var committee: CommitteeDetail
    /// The API's echo of the request, loosely typed.
    public var request: JSONValue?

    /// Makes a response from its parts.
    public init(committee: CommitteeDetail, request: JSONValue? = nil) {
        self.committee = committee
        self.request = request
    }
}
