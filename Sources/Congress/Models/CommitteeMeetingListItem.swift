import Foundation

/// One entry of the committee-meeting list: `{eventId, chamber, congress, updateDate, url}`.
///
/// The identity fields are as strict as in ``CommitteeMeeting`` (same rules, same errors);
/// ``updateDate`` follows the same lenient pair as the meeting's dates: nil when absent or malformed,
/// with the text as sent in ``rawUpdateDate``. Unknown fields are ignored.
public struct CommitteeMeetingListItem: Sendable, Equatable, Codable {
    /// The event id: ASCII digits only, never empty.
    public var eventId: String
    /// The chamber, normalised to the API's spelling.
    public var chamber: CongressChamber
    /// The congress; always positive.
    public var congress: Int
    /// When Congress.gov last updated the meeting; nil when absent or malformed.
    public var updateDate: CongressDate?
    /// The `updateDate` field as sent; nil only when it is absent or null.
    public var rawUpdateDate: String?
    /// The meeting's API URL (as sent: it carries no API key).
    public var url: String?

    /// Makes a list entry from its parts; `rawUpdateDate` defaults to the date's original text.
    public init(
        eventId: String,
        chamber: CongressChamber,
        congress: Int,
        updateDate: CongressDate? = nil,
        rawUpdateDate: String? = nil,
        url: String? = nil
    ) {
        self.eventId = eventId
        self.chamber = chamber
        self.congress = congress
        self.updateDate = updateDate
        self.rawUpdateDate = rawUpdateDate ?? updateDate?.original
        self.url = url
    }

    /// An error when `updateDate` is present but not a valid timestamp, naming the meeting and field.
    public var dateErrors: [CongressDecodingError] {
        guard updateDate == nil, let rawUpdateDate else { return [] }
        return [
            CongressDecodingError(
                eventId: eventId,
                source: nil,
                field: "updateDate",
                problem: CongressDate.expectation(found: rawUpdateDate)
            )
        ]
    }

    private enum CodingKeys: String, CodingKey {
        case eventId
        case eventIdLowercase = "eventid"
        case chamber
        case congress
        case updateDate
        case url
    }

    public init(from decoder: any Decoder) throws {
        let context = CongressDecodingContext(decoder)
        let container: KeyedDecodingContainer<CodingKeys>
        do {
            container = try decoder.container(keyedBy: CodingKeys.self)
        } catch {
            throw context.wrap(error, eventId: nil)
        }
        let eventId = try container.decodeEventId([.eventId, .eventIdLowercase], context: context)
        self.eventId = eventId
        chamber = try container.decodeChamber(forKey: .chamber, eventId: eventId, context: context)
        congress = try container.decodeCongress(forKey: .congress, eventId: eventId, context: context)
        do {
            (updateDate, rawUpdateDate) = try container.decodeLenientDate(forKey: .updateDate)
            url = try container.decodeIfPresent(String.self, forKey: .url)
        } catch {
            throw context.wrap(error, eventId: eventId)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(eventId, forKey: .eventId)
        try container.encode(chamber, forKey: .chamber)
        try container.encode(congress, forKey: .congress)
        try container.encodeIfPresent(rawUpdateDate ?? updateDate?.original, forKey: .updateDate)
        try container.encodeIfPresent(url, forKey: .url)
    }
}
