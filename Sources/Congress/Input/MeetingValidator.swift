import Foundation

/// Checks a meeting before it may enter a batch: required fields, dates, sizes and text. Each problem
/// names the field; a meeting with any problem is rejected alone and journaled with its reasons.
///
/// Limits (generous for real data, and a bound on what one hostile document can make us store):
/// title 10,000 characters; other text fields 2,000; 500 witnesses; 1,000 documents of each kind;
/// 100 committees; 100 transcripts.
public enum MeetingValidator {
    public static let maximumTitleLength = 10_000
    public static let maximumFieldLength = 2_000
    public static let maximumWitnesses = 500
    public static let maximumDocuments = 1_000
    public static let maximumCommittees = 100
    public static let maximumTranscripts = 100

    /// One problem: the field and what is wrong with it.
    public struct Problem: Sendable, Hashable {
        public var field: String
        public var problem: String
    }

    /// Every problem of `meeting`; empty when it may be stored.
    public static func problems(of meeting: CommitteeMeeting) -> [Problem] {
        var result: [Problem] = []
        for error in meeting.dateErrors { result.append(Problem(field: error.field, problem: error.problem)) }
        if meeting.title.map(TextFolding.trimmed)?.isEmpty ?? true {
            result.append(Problem(field: "title", problem: "missing or empty"))
        }
        if meeting.rawDate == nil { result.append(Problem(field: "date", problem: "missing")) }
        if meeting.rawUpdateDate == nil { result.append(Problem(field: "updateDate", problem: "missing")) }
        if meeting.committees?.isEmpty ?? true {
            result.append(Problem(field: "committees", problem: "no committee is named"))
        }
        check(meeting.title, "title", limit: maximumTitleLength, into: &result)
        check(meeting.type, "type", limit: 100, into: &result)
        check(meeting.meetingStatus, "meetingStatus", limit: 100, into: &result)
        check(meeting.location?.room, "location.room", limit: maximumFieldLength, into: &result)
        check(meeting.location?.building, "location.building", limit: maximumFieldLength, into: &result)
        count(meeting.witnesses, "witnesses", limit: maximumWitnesses, into: &result)
        count(meeting.witnessDocuments, "witnessDocuments", limit: maximumDocuments, into: &result)
        count(meeting.meetingDocuments, "meetingDocuments", limit: maximumDocuments, into: &result)
        count(meeting.committees, "committees", limit: maximumCommittees, into: &result)
        count(meeting.hearingTranscript, "hearingTranscript", limit: maximumTranscripts, into: &result)
        for (index, witness) in (meeting.witnesses ?? []).enumerated() {
            check(witness.name, "witnesses[\(index)].name", limit: maximumFieldLength, into: &result)
            check(witness.position, "witnesses[\(index)].position", limit: maximumFieldLength, into: &result)
            check(
                witness.organization, "witnesses[\(index)].organization", limit: maximumFieldLength,
                into: &result)
        }
        for (index, document) in (meeting.witnessDocuments ?? []).enumerated() {
            check(document.documentType, "witnessDocuments[\(index)].documentType", limit: 200, into: &result)
            check(document.url, "witnessDocuments[\(index)].url", limit: maximumFieldLength, into: &result)
        }
        for (index, document) in (meeting.meetingDocuments ?? []).enumerated() {
            check(document.name, "meetingDocuments[\(index)].name", limit: maximumFieldLength, into: &result)
            check(
                document.description, "meetingDocuments[\(index)].description", limit: maximumTitleLength,
                into: &result)
            check(document.documentType, "meetingDocuments[\(index)].documentType", limit: 200, into: &result)
            check(document.url, "meetingDocuments[\(index)].url", limit: maximumFieldLength, into: &result)
        }
        for (index, committee) in (meeting.committees ?? []).enumerated() {
            check(committee.systemCode, "committees[\(index)].systemCode", limit: 20, into: &result)
            check(committee.name, "committees[\(index)].name", limit: maximumFieldLength, into: &result)
        }
        return result
    }

    private static func count<T>(_ list: [T]?, _ field: String, limit: Int, into result: inout [Problem]) {
        if let list, list.count > limit {
            result.append(
                Problem(field: field, problem: "\(list.count) entries, more than the \(limit) allowed"))
        }
    }

    private static func check(_ text: String?, _ field: String, limit: Int, into result: inout [Problem]) {
        guard let text else { return }
        if text.count > limit {
            result.append(
                Problem(field: field, problem: "\(text.count) characters, more than the \(limit) allowed"))
        }
        if let bad = text.unicodeScalars.first(where: isForbidden) {
            let code = String(bad.value, radix: 16, uppercase: true)
            result.append(
                Problem(
                    field: field,
                    problem:
                        "invalid text: contains U+\(String(repeating: "0", count: max(0, 4 - code.count)) + code)"
                ))
        }
    }

    /// Control characters other than tab, line feed and carriage return; the replacement character
    /// (a sign of text decoded from invalid UTF-8); noncharacters.
    private static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: return false
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0xFFFD, 0xFFFE, 0xFFFF, 0xFDD0...0xFDEF: return true
        default: return false
        }
    }
}
