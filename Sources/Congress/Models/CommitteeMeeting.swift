import Foundation

/// One committee meeting as the detail endpoint returns it (`committeeMeeting` in
/// `GET /v3/committee-meeting/{congress}/{chamber}/{eventId}`).
///
/// Strict: ``eventId`` (a non-empty string of at most 18 digits; a JSON integer is converted; the key
/// `eventId` is read, the spec's `eventid` is accepted), ``chamber`` (House, Senate or NoChamber, any
/// letter case) and ``congress`` (a positive integer, also as a string of digits). Decoding throws a
/// ``CongressDecodingError`` naming the meeting (or the source, before the event id is read), the
/// field and the problem.
///
/// Tolerant: every other field is optional, unknown fields are ignored, strings (empty ones included)
/// are kept as given; lists may come as an array, `{"item": [...]}` or `{"item": {...}}`.
///
/// Dates never fail decoding. ``date`` and ``updateDate`` hold the parsed instant, or nil when the
/// field is absent or malformed; ``rawDate`` and ``rawUpdateDate`` hold the text as sent (nil only when
/// absent or null). So `date == nil && rawDate != nil` means malformed, and ``dateErrors`` turns that
/// into ready-made reasons for rejecting the meeting. A type mismatch elsewhere (a number for `title`)
/// does fail decoding, with the meeting and the field's path named.
///
/// Encodes back to the API's shape: lists as arrays, dates as their raw text, `eventId` in camelCase.
public struct CommitteeMeeting: Sendable, Equatable, Codable {
    /// The event id, e.g. `115538`: ASCII digits only, never empty.
    public var eventId: String
    /// The chamber, normalised to the API's spelling.
    public var chamber: CongressChamber
    /// The congress, e.g. `118`; always positive.
    public var congress: Int
    /// The kind of meeting: `Hearing`, `Meeting` or `Markup` (Senate meetings are all `Meeting`).
    public var type: String?
    /// The meeting's title; the API sometimes sends an empty string.
    public var title: String?
    /// The status: `Scheduled`, `Canceled`, `Postponed` or `Rescheduled` (not checked here).
    public var meetingStatus: String?
    /// When the meeting takes place; nil when `date` is absent or malformed (see ``rawDate``).
    public var date: CongressDate?
    /// The `date` field as sent; nil only when it is absent or null.
    public var rawDate: String?
    /// When Congress.gov last updated the meeting; nil when absent or malformed (see ``rawUpdateDate``).
    public var updateDate: CongressDate?
    /// The `updateDate` field as sent; nil only when it is absent or null.
    public var rawUpdateDate: String?
    /// Where the meeting takes place.
    public var location: Location?
    /// The committees and subcommittees holding the meeting.
    public var committees: [CommitteeReference]?
    /// The witnesses.
    public var witnesses: [Witness]?
    /// Documents provided by the witnesses.
    public var witnessDocuments: [WitnessDocument]?
    /// Documents provided by the committees.
    public var meetingDocuments: [MeetingDocument]?
    /// Videos of the meeting.
    public var videos: [Video]?
    /// Printed hearing transcripts (the jacket numbers live here).
    public var hearingTranscript: [HearingTranscript]?
    /// Related bills, nominations and treaties, loosely typed (not stored).
    public var relatedItems: JSONValue?

    /// Makes a meeting from its parts; `rawDate`/`rawUpdateDate` default to the dates' original text.
    public init(
        eventId: String,
        chamber: CongressChamber,
        congress: Int,
        type: String? = nil,
        title: String? = nil,
        meetingStatus: String? = nil,
        date: CongressDate? = nil,
        rawDate: String? = nil,
        updateDate: CongressDate? = nil,
        rawUpdateDate: String? = nil,
        location: Location? = nil,
        committees: [CommitteeReference]? = nil,
        witnesses: [Witness]? = nil,
        witnessDocuments: [WitnessDocument]? = nil,
        meetingDocuments: [MeetingDocument]? = nil,
        videos: [Video]? = nil,
        hearingTranscript: [HearingTranscript]? = nil,
        relatedItems: JSONValue? = nil
    ) {
        self.eventId = eventId
        self.chamber = chamber
        self.congress = congress
        self.type = type
        self.title = title
        self.meetingStatus = meetingStatus
        self.date = date
        self.rawDate = rawDate ?? date?.original
        self.updateDate = updateDate
        self.rawUpdateDate = rawUpdateDate ?? updateDate?.original
        self.location = location
        self.committees = committees
        self.witnesses = witnesses
        self.witnessDocuments = witnessDocuments
        self.meetingDocuments = meetingDocuments
        self.videos = videos
        self.hearingTranscript = hearingTranscript
        self.relatedItems = relatedItems
    }

    /// One error per date field that is present but not a valid timestamp (an empty string included).
    ///
    /// Each names the meeting and the field, e.g.
    /// `meeting 117214: field "date": expected a date like 2025-03-24T13:00:00Z …, found "tomorrow"`.
    public var dateErrors: [CongressDecodingError] {
        var errors: [CongressDecodingError] = []
        if date == nil, let rawDate {
            errors.append(dateError(field: "date", raw: rawDate))
        }
        if updateDate == nil, let rawUpdateDate {
            errors.append(dateError(field: "updateDate", raw: rawUpdateDate))
        }
        return errors
    }

    private func dateError(field: String, raw: String) -> CongressDecodingError {
        CongressDecodingError(
            eventId: eventId,
            source: nil,
            field: field,
            problem: CongressDate.expectation(found: raw)
        )
    }
}

extension CommitteeMeeting {
    private enum CodingKeys: String, CodingKey {
        case eventId
        case eventIdLowercase = "eventid"
        case chamber
        case congress
        case type
        case title
        case meetingStatus
        case date
        case updateDate
        case location
        case committees
        case witnesses
        case witnessDocuments
        case meetingDocuments
        case videos
        case hearingTranscript
        case relatedItems
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
            type = try container.decodeIfPresent(String.self, forKey: .type)
            title = try container.decodeIfPresent(String.self, forKey: .title)
            meetingStatus = try container.decodeIfPresent(String.self, forKey: .meetingStatus)
            (date, rawDate) = try container.decodeLenientDate(forKey: .date)
            (updateDate, rawUpdateDate) = try container.decodeLenientDate(forKey: .updateDate)
            location = try container.decodeIfPresent(Location.self, forKey: .location)
            committees = try container.decodeItemList(CommitteeReference.self, forKey: .committees)
            witnesses = try container.decodeItemList(Witness.self, forKey: .witnesses)
            witnessDocuments = try container.decodeItemList(WitnessDocument.self, forKey: .witnessDocuments)
            meetingDocuments = try container.decodeItemList(MeetingDocument.self, forKey: .meetingDocuments)
            videos = try container.decodeItemList(Video.self, forKey: .videos)
            hearingTranscript = try container.decodeItemList(
                HearingTranscript.self,
                forKey: .hearingTranscript
            )
            relatedItems = try container.decodeIfPresent(JSONValue.self, forKey: .relatedItems)
        } catch {
            throw context.wrap(error, eventId: eventId)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(eventId, forKey: .eventId)
        try container.encode(chamber, forKey: .chamber)
        try container.encode(congress, forKey: .congress)
        try container.encodeIfPresent(type, forKey: .type)
        try container.encodeIfPresent(title, forKey: .title)
        try container.encodeIfPresent(meetingStatus, forKey: .meetingStatus)
        try container.encodeIfPresent(rawDate ?? date?.original, forKey: .date)
        try container.encodeIfPresent(rawUpdateDate ?? updateDate?.original, forKey: .updateDate)
        try container.encodeIfPresent(location, forKey: .location)
        try container.encodeIfPresent(committees, forKey: .committees)
        try container.encodeIfPresent(witnesses, forKey: .witnesses)
        try container.encodeIfPresent(witnessDocuments, forKey: .witnessDocuments)
        try container.encodeIfPresent(meetingDocuments, forKey: .meetingDocuments)
        try container.encodeIfPresent(videos, forKey: .videos)
        try container.encodeIfPresent(hearingTranscript, forKey: .hearingTranscript)
        try container.encodeIfPresent(relatedItems, forKey: .relatedItems)
    }
}
