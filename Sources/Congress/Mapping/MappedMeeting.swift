import Foundation
import Store

/// The desired state of one committee meeting: its `hearings` row and every child row, without row ids.
///
/// Made from a ``CommitteeMeeting`` by ``init(_:)``, a pure function: the same meeting always gives
/// the same value. Row ids, foreign keys and `created_at`/`updated_at` are the differ's business
/// (``MeetingDiffer``); everything else a row holds is decided here. docs/mapping.md has the
/// field-by-field table.
public struct MappedMeeting: Sendable, Hashable {
    /// The `hearings` row.
    public var hearing: MappedHearing
    /// Committee links in API order, one per system code; the first is primary.
    public var committees: [MappedCommitteeLink]
    /// Witnesses in API order, one per identity key, with their appearance at this meeting.
    public var witnesses: [MappedAppearance]
    /// Witness documents in API order, one per URL.
    public var witnessDocuments: [MappedWitnessDocument]
    /// Meeting documents (`supporting_documents`) in API order, one per URL.
    public var supportingDocuments: [MappedSupportingDocument]
    /// Printed transcripts in API order, one per jacket number.
    public var transcripts: [MappedTranscript]

    /// The meeting's event id.
    public var eventId: String { hearing.eventId }

    /// Makes a mapped meeting from its parts.
    public init(
        hearing: MappedHearing,
        committees: [MappedCommitteeLink],
        witnesses: [MappedAppearance],
        witnessDocuments: [MappedWitnessDocument],
        supportingDocuments: [MappedSupportingDocument],
        transcripts: [MappedTranscript]
    ) {
        self.hearing = hearing
        self.committees = committees
        self.witnesses = witnesses
        self.witnessDocuments = witnessDocuments
        self.supportingDocuments = supportingDocuments
        self.transcripts = transcripts
    }

    /// Maps a meeting, checking every field the tables constrain.
    ///
    /// - Throws: a ``MappingError`` naming the meeting and every wrong field: a missing or unknown
    ///   `meetingStatus` or `type`; an empty `title`; a malformed `date` or `updateDate`; a committee
    ///   without a system code; a witness without a name; a document without a URL or a document type;
    ///   a transcript without a jacket number. Nothing of a rejected meeting is written.
    public init(_ meeting: CommitteeMeeting) throws {
        var issues = IssueCollector()
        hearing = MappedHearing.map(meeting, issues: &issues)
        committees = MappedCommitteeLink.map(meeting, issues: &issues)
        let witnesses = MappedAppearance.map(meeting, issues: &issues)
        self.witnesses = witnesses
        witnessDocuments = MappedWitnessDocument.map(meeting, witnesses: witnesses, issues: &issues)
        supportingDocuments = MappedSupportingDocument.map(meeting, issues: &issues)
        transcripts = MappedTranscript.map(meeting, issues: &issues)
        try issues.check(.meeting(eventId: meeting.eventId))
    }
}

/// The `hearings` row of a meeting, without `hearing_id`, `created_at` and `updated_at`.
///
/// Dates and times are UTC: `hearingDate` and `hearingDateOnly` are the meeting's UTC date
/// (`YYYY-MM-DD`, the same value in both of the predecessor's columns), `hearingTime` its UTC time of
/// day (`HH:MM:SS`), `updateDate` is `YYYY-MM-DD HH:MM:SS` in UTC. A meeting at 21:00 in Washington on
/// 24 March is stored as 2025-03-25 / 01:00:00.
public struct MappedHearing: Sendable, Hashable {
    /// The event id: the hearing's identity.
    public var eventId: String
    /// The congress, e.g. 119.
    public var congress: Int
    /// `House`, `Senate` or `NoChamber`.
    public var chamber: String
    /// The title exactly as sent.
    public var title: String
    /// `Hearing`, `Meeting` or `Markup`.
    public var hearingType: String
    /// `Scheduled`, `Canceled`, `Postponed` or `Rescheduled`.
    public var status: String
    /// The meeting's UTC date, `YYYY-MM-DD`; nil without a date.
    public var hearingDate: String?
    /// The same UTC date again (the predecessor's second date column).
    public var hearingDateOnly: String?
    /// The meeting's UTC time of day, `HH:MM:SS`; nil without a date.
    public var hearingTime: String?
    /// Room and building, or the street address, as one line of text.
    public var location: String?
    /// The first transcript's jacket number, as text.
    public var jacketNumber: String?
    /// The meeting's API URL.
    public var url: String
    /// The meeting's page on Congress.gov; nil for `NoChamber`.
    public var congressGovURL: String?
    /// When Congress.gov last updated the meeting, `YYYY-MM-DD HH:MM:SS` in UTC; nil when not sent.
    public var updateDate: String?

    /// The mapped columns by name (every column of `hearings` except the id and the timestamps).
    public var columns: [String: Value] {
        [
            "event_id": .text(eventId), "congress": .integer(Int64(congress)), "chamber": .text(chamber),
            "title": .text(title), "hearing_type": .text(hearingType), "status": .text(status),
            "hearing_date": .optionalText(hearingDate), "hearing_date_only": .optionalText(hearingDateOnly),
            "hearing_time": .optionalText(hearingTime), "location": .optionalText(location),
            "jacket_number": .optionalText(jacketNumber), "url": .text(url),
            "congress_gov_url": .optionalText(congressGovURL), "update_date": .optionalText(updateDate),
        ]
    }

    /// The meeting statuses the table accepts.
    public static let statuses = ["Scheduled", "Canceled", "Postponed", "Rescheduled"]
    /// The meeting types the table accepts.
    public static let types = ["Hearing", "Meeting", "Markup"]

    static func map(_ meeting: CommitteeMeeting, issues: inout IssueCollector) -> MappedHearing {
        let status = canonical(meeting.meetingStatus, among: statuses)
        if status == nil {
            issues.add("meetingStatus", MappingError.expectation(statuses, found: meeting.meetingStatus))
        }
        let type = canonical(meeting.type, among: types)
        if type == nil { issues.add("type", MappingError.expectation(types, found: meeting.type)) }
        let title = meeting.title ?? ""
        if TextFolding.trimmed(title).isEmpty {
            issues.add("title", meeting.title == nil ? "missing" : "empty")
        }
        for error in meeting.dateErrors { issues.add(error.field, error.problem) }

        let date = meeting.date.map { UTCDateParts($0) }
        return MappedHearing(
            eventId: meeting.eventId,
            congress: meeting.congress,
            chamber: meeting.chamber.rawValue,
            title: title,
            hearingType: type ?? "",
            status: status ?? "",
            hearingDate: date?.day,
            hearingDateOnly: date?.day,
            hearingTime: date?.time,
            location: meeting.location.flatMap(renderLocation),
            jacketNumber: meeting.hearingTranscript?.lazy.compactMap(\.jacketNumber).first.map(String.init),
            url: apiURL(meeting),
            congressGovURL: congressGovURL(meeting),
            updateDate: meeting.updateDate.map { UTCDateParts($0).timestamp }
        )
    }

    /// The entry of `allowed` equal to `value` ignoring case and surrounding whitespace.
    private static func canonical(_ value: String?, among allowed: [String]) -> String? {
        guard let value else { return nil }
        let trimmed = TextFolding.trimmed(value).lowercased()
        return allowed.first { $0.lowercased() == trimmed }
    }

    /// `2358-A Rayburn House Office Building`; `1664 North Virginia Street, Reno, NV 89557`; nil when
    /// nothing is left. Parts with no letter or digit (the API's `----------`) are left out.
    static func renderLocation(_ location: CommitteeMeeting.Location) -> String? {
        func part(_ text: String?) -> String? {
            guard let text = text.map(TextFolding.trimmed),
                text.contains(where: { $0.isLetter || $0.isNumber })
            else { return nil }
            return text
        }
        let hill = [part(location.room), part(location.building)].compactMap { $0 }
        if !hill.isEmpty { return hill.joined(separator: " ") }
        guard let address = location.address else { return nil }
        let stateZip = [part(address.state), part(address.zipCode)].compactMap { $0 }.joined(separator: " ")
        let line = [part(address.street), part(address.city), stateZip.isEmpty ? nil : stateZip].compactMap {
            $0
        }
        return line.isEmpty ? nil : line.joined(separator: ", ")
    }

    /// `https://api.congress.gov/v3/committee-meeting/119/house/117214?format=json`.
    static func apiURL(_ meeting: CommitteeMeeting) -> String {
        "https://api.congress.gov/v3/committee-meeting/\(meeting.congress)/"
            + "\(meeting.chamber.rawValue.lowercased())/\(meeting.eventId)?format=json"
    }

    /// `https://www.congress.gov/event/119th-Congress/house-event/117214`; nil for `NoChamber`.
    static func congressGovURL(_ meeting: CommitteeMeeting) -> String? {
        guard meeting.chamber != .noChamber else { return nil }
        return "https://www.congress.gov/event/\(ordinal(meeting.congress))-Congress/"
            + "\(meeting.chamber.rawValue.lowercased())-event/\(meeting.eventId)"
    }

    /// `119th`, `121st`, `122nd`, `123rd`, `111th`, `112th`, `113th`.
    static func ordinal(_ number: Int) -> String {
        let suffix: String
        switch (number % 10, number % 100) {
        case (_, 11...13): suffix = "th"
        case (1, _): suffix = "st"
        case (2, _): suffix = "nd"
        case (3, _): suffix = "rd"
        default: suffix = "th"
        }
        return "\(number)\(suffix)"
    }
}

/// A meeting's date split into the UTC parts the `hearings` table stores.
struct UTCDateParts {
    /// `YYYY-MM-DD`.
    var day: String
    /// `HH:MM:SS`.
    var time: String
    /// `YYYY-MM-DD HH:MM:SS`.
    var timestamp: String { day + " " + time }

    /// The UTC parts of `date` (fractions of a second cut off).
    init(_ date: CongressDate) {
        let text = date.iso8601UTC  // YYYY-MM-DDTHH:MM:SSZ
        day = String(text.prefix(10))
        time = String(text.dropFirst(11).prefix(8))
    }
}

/// A link between a meeting and a committee (`hearing_committees`), with the committee row to create
/// when the database does not know the committee.
public struct MappedCommitteeLink: Sendable, Hashable {
    /// The committee's system code, e.g. `hsap06`.
    public var systemCode: String
    /// Whether the committee is the meeting's primary one: the first listed.
    public var isPrimary: Bool
    /// The committee row made from the meeting's reference (``MappedCommittee/fallback(for:meeting:)``).
    public var fallback: MappedCommittee

    /// A link from its parts.
    public init(systemCode: String, isPrimary: Bool, fallback: MappedCommittee) {
        self.systemCode = systemCode
        self.isPrimary = isPrimary
        self.fallback = fallback
    }

    static func map(_ meeting: CommitteeMeeting, issues: inout IssueCollector) -> [MappedCommitteeLink] {
        var links: [MappedCommitteeLink] = []
        var seen: Set<String> = []
        for (index, reference) in (meeting.committees ?? []).enumerated() {
            guard let fallback = MappedCommittee.fallback(for: reference, meeting: meeting) else {
                issues.add(
                    "committees[\(index)].systemCode", reference.systemCode == nil ? "missing" : "empty")
                continue
            }
            guard seen.insert(fallback.systemCode).inserted else { continue }
            links.append(
                MappedCommitteeLink(
                    systemCode: fallback.systemCode, isPrimary: links.isEmpty, fallback: fallback))
        }
        return links
    }
}

/// A witness (`witnesses`) and their appearance at one meeting (`witness_appearances`).
public struct MappedAppearance: Sendable, Hashable {
    /// The witness's name, split.
    public var name: WitnessName
    /// The witness's position as sent: both `witnesses.title` and `witness_appearances.position`.
    public var position: String?
    /// The organisation as sent.
    public var organization: String?
    /// ``WitnessIdentity/key(name:organization:)``.
    public var identityKey: String
    /// ``WitnessType/classify(organization:)``.
    public var witnessType: WitnessType?
    /// 1 for the first witness listed, then 2, 3 …
    public var appearanceOrder: Int

    /// An appearance; the identity key and the witness type are derived from the name and organisation.
    public init(name: WitnessName, position: String?, organization: String?, appearanceOrder: Int) {
        self.name = name
        self.position = position
        self.organization = organization
        self.identityKey = WitnessIdentity.key(name: name, organization: organization)
        self.witnessType = WitnessType.classify(organization: organization)
        self.appearanceOrder = appearanceOrder
    }

    /// The `witnesses` columns (without `witness_id` and the timestamps), used when the witness is new.
    public var witnessColumns: [String: Value] {
        [
            "first_name": .optionalText(name.firstName), "last_name": .text(name.lastName),
            "full_name": .text(name.fullName), "title": .optionalText(position),
            "organization": .optionalText(organization), "identity_key": .text(identityKey),
        ]
    }

    /// The mapped `witness_appearances` columns (without the ids and `created_at`).
    public var appearanceColumns: [String: Value] {
        [
            "position": .optionalText(position), "witness_type": .optionalText(witnessType?.rawValue),
            "appearance_order": .integer(Int64(appearanceOrder)),
        ]
    }

    static func map(_ meeting: CommitteeMeeting, issues: inout IssueCollector) -> [MappedAppearance] {
        var result: [MappedAppearance] = []
        var seen: Set<String> = []
        for (index, witness) in (meeting.witnesses ?? []).enumerated() {
            guard let name = WitnessName(witness.name ?? "") else {
                issues.add("witnesses[\(index)].name", witness.name == nil ? "missing" : "empty")
                continue
            }
            let appearance = MappedAppearance(
                name: name, position: nonEmpty(witness.position),
                organization: nonEmpty(witness.organization),
                appearanceOrder: result.count + 1)
            guard seen.insert(appearance.identityKey).inserted else { continue }
            result.append(appearance)
        }
        return result
    }
}

/// A document a witness provided (`witness_documents`).
public struct MappedWitnessDocument: Sendable, Hashable {
    /// The API's document type, exactly as sent (`Witness Supporting Document`).
    public var documentType: String
    /// The API's format, e.g. `PDF`.
    public var formatType: String?
    /// The document's URL: its identity within the meeting.
    public var documentURL: String
    /// The identity key of the witness the file name names, or nil when it names none of them.
    public var witnessIdentityKey: String?

    /// A witness document from its parts.
    public init(documentType: String, formatType: String?, documentURL: String, witnessIdentityKey: String?) {
        self.documentType = documentType
        self.formatType = formatType
        self.documentURL = documentURL
        self.witnessIdentityKey = witnessIdentityKey
    }

    /// The mapped columns (without the ids, `appearance_id` and the timestamps); `title` is always NULL.
    public var columns: [String: Value] {
        [
            "document_type": .text(documentType), "title": .null, "document_url": .text(documentURL),
            "format_type": .optionalText(formatType),
        ]
    }

    static func map(_ meeting: CommitteeMeeting, witnesses: [MappedAppearance], issues: inout IssueCollector)
        -> [MappedWitnessDocument]
    {
        let names = witnesses.map(\.name)
        var result: [MappedWitnessDocument] = []
        var seen: Set<String> = []
        for (index, document) in (meeting.witnessDocuments ?? []).enumerated() {
            let field = "witnessDocuments[\(index)]"
            let url = nonEmpty(document.url)
            let type = nonEmpty(document.documentType)
            if url == nil { issues.add(field + ".url", document.url == nil ? "missing" : "empty") }
            if type == nil {
                issues.add(field + ".documentType", document.documentType == nil ? "missing" : "empty")
            }
            guard let url, let type, seen.insert(url).inserted else { continue }
            let owner = WitnessDocumentFile(url: url)?.match(in: names).map { witnesses[$0].identityKey }
            result.append(
                MappedWitnessDocument(
                    documentType: type, formatType: nonEmpty(document.format), documentURL: url,
                    witnessIdentityKey: owner))
        }
        return result
    }
}

/// A document a committee provided (`supporting_documents`).
public struct MappedSupportingDocument: Sendable, Hashable {
    /// The API's document type, exactly as sent (trailing spaces included).
    public var documentType: String
    /// The document's name.
    public var title: String?
    /// The description; nil when the API sends an empty one.
    public var description: String?
    /// The document's URL: its identity within the meeting.
    public var documentURL: String
    /// The API's format, e.g. `PDF`.
    public var formatType: String?

    /// A meeting document from its parts.
    public init(
        documentType: String, title: String?, description: String?, documentURL: String, formatType: String?
    ) {
        self.documentType = documentType
        self.title = title
        self.description = description
        self.documentURL = documentURL
        self.formatType = formatType
    }

    /// The mapped columns (without the ids and the timestamps).
    public var columns: [String: Value] {
        [
            "document_type": .text(documentType), "title": .optionalText(title),
            "description": .optionalText(description), "document_url": .text(documentURL),
            "format_type": .optionalText(formatType),
        ]
    }

    static func map(_ meeting: CommitteeMeeting, issues: inout IssueCollector) -> [MappedSupportingDocument] {
        var result: [MappedSupportingDocument] = []
        var seen: Set<String> = []
        for (index, document) in (meeting.meetingDocuments ?? []).enumerated() {
            let field = "meetingDocuments[\(index)]"
            let url = nonEmpty(document.url)
            let type = nonEmpty(document.documentType)
            if url == nil { issues.add(field + ".url", document.url == nil ? "missing" : "empty") }
            if type == nil {
                issues.add(field + ".documentType", document.documentType == nil ? "missing" : "empty")
            }
            guard let url, let type, seen.insert(url).inserted else { continue }
            result.append(
                MappedSupportingDocument(
                    documentType: type, title: nonEmpty(document.name),
                    description: nonEmpty(document.description),
                    documentURL: url, formatType: nonEmpty(document.format)))
        }
        return result
    }
}

/// A printed hearing transcript (`hearing_transcripts`).
public struct MappedTranscript: Sendable, Hashable {
    /// The jacket number, as text: the transcript's identity within the meeting.
    public var jacketNumber: String
    /// The transcript's API URL.
    public var documentURL: String?

    /// A transcript from its parts.
    public init(jacketNumber: String, documentURL: String?) {
        self.jacketNumber = jacketNumber
        self.documentURL = documentURL
    }

    /// The mapped columns (without the ids and the timestamps); title, PDF, HTML and format are NULL.
    public var columns: [String: Value] {
        [
            "jacket_number": .text(jacketNumber), "title": .null, "document_url": .optionalText(documentURL),
            "pdf_url": .null, "html_url": .null, "format_type": .null,
        ]
    }

    static func map(_ meeting: CommitteeMeeting, issues: inout IssueCollector) -> [MappedTranscript] {
        var result: [MappedTranscript] = []
        var seen: Set<String> = []
        for (index, transcript) in (meeting.hearingTranscript ?? []).enumerated() {
            guard let number = transcript.jacketNumber else {
                issues.add("hearingTranscript[\(index)].jacketNumber", "missing")
                continue
            }
            let jacket = String(number)
            guard seen.insert(jacket).inserted else { continue }
            result.append(MappedTranscript(jacketNumber: jacket, documentURL: nonEmpty(transcript.url)))
        }
        return result
    }
}

/// `text` unless it is nil, empty or only whitespace; the text itself is kept as sent.
func nonEmpty(_ text: String?) -> String? {
    guard let text else { return nil }
    // Most values start with a letter: answered without Foundation's `trimmingCharacters`, which was
    // a tenth of a meeting's mapping time. The character test is the same `whitespacesAndNewlines`.
    for scalar in text.unicodeScalars where !TextFolding.blanks.contains(scalar) { return text }
    return nil
}
