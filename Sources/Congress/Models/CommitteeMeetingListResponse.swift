import Foundation

/// The list response `{"committeeMeetings": [...], "pagination": {...}, "request": {...}}`.
///
/// One bad entry does not fail the page: entries that fail to decode (a strict field, a wrong type)
/// are left out of ``committeeMeetings`` and reported, in order, in ``invalidItems``, each naming the
/// meeting (or its position in the list when the event id could not be read). A missing, null or
/// malformed `committeeMeetings` list as a whole does throw (an empty page is `[]`). ``invalidItems`` is not encoded.
public struct CommitteeMeetingListResponse: CongressAPIDocument {
    /// The entries that decoded, in input order.
    public var committeeMeetings: [CommitteeMeetingListItem]
    /// Why each entry that did not decode was left out.
    public var invalidItems: [CongressDecodingError]
    /// The paging block.
    public var pagination: Pagination?
    /// The API's echo of the request, loosely typed.
    public var request: JSONValue?

    /// Makes a response from its parts.
    public init(
        committeeMeetings: [CommitteeMeetingListItem],
        invalidItems: [CongressDecodingError] = [],
        pagination: Pagination? = nil,
        request: JSONValue? = nil
    ) {
        self.committeeMeetings = committeeMeetings
        self.invalidItems = invalidItems
        self.pagination = pagination
        self.request = request
    }

    private enum CodingKeys: String, CodingKey {
        case committeeMeetings
        case pagination
        case request
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let items = try container.decode(
            CongressItemList<CongressFailableItem<CommitteeMeetingListItem>>.self,
            forKey: .committeeMeetings
        )
        (committeeMeetings, invalidItems) = CongressFailableItem.partition(items.elements)
        pagination = try container.decodeIfPresent(Pagination.self, forKey: .pagination)
        request = try container.decodeIfPresent(JSONValue.self, forKey: .request)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(committeeMeetings, forKey: .committeeMeetings)
        try container.encodeIfPresent(pagination, forKey: .pagination)
        try container.encodeIfPresent(request, forKey: .request)
    }
}
