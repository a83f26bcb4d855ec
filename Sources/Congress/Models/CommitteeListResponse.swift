import Foundation

/// The committee list response `{"committees": [...], "pagination": {...}, "request": {...}}`.
///
/// As in ``CommitteeMeetingListResponse``, an entry that fails to decode (a wrong type somewhere) is
/// left out of ``committees`` and reported in ``invalidItems`` with its position in the list; a
/// missing, null or malformed `committees` list as a whole throws. ``invalidItems`` is not encoded.
public struct CommitteeListResponse: CongressAPIDocument {
    /// The entries that decoded, in input order.
    public var committees: [CommitteeListItem]
    /// Why each entry that did not decode was left out.
    public var invalidItems: [CongressDecodingError]
    /// The paging block.
    public var pagination: Pagination?
    /// The API's echo of the request, loosely typed.
    public var request: JSONValue?

    /// Makes a response from its parts.
    public init(
        committees: [CommitteeListItem],
        invalidItems: [CongressDecodingError] = [],
        pagination: Pagination? = nil,
        request: JSONValue? = nil
    ) {
        self.committees = committees
        self.invalidItems = invalidItems
        self.pagination = pagination
        self.request = request
    }

    private enum CodingKeys: String, CodingKey {
        case committees
        case pagination
        case request
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let items = try container.decode(
            CongressItemList<CongressFailableItem<CommitteeListItem>>.self,
            forKey: .committees
        )
        (committees, invalidItems) = CongressFailableItem.partition(items.elements)
        pagination = try container.decodeIfPresent(Pagination.self, forKey: .pagination)
        request = try container.decodeIfPresent(JSONValue.self, forKey: .request)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(committees, forKey: .committees)
        try container.encodeIfPresent(pagination, forKey: .pagination)
        try container.encodeIfPresent(request, forKey: .request)
    }
}
