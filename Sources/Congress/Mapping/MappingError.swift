import Foundation

/// Why a meeting or a committee could not be mapped to rows: the item, and every field that is wrong.
///
/// The message names the item, each field and its problem, e.g.
/// `meeting 117214: field "meetingStatus": expected Scheduled, Canceled, Postponed or Rescheduled,
/// found "Tentative"`. Texts echoed from the input are shortened and redacted as in
/// ``CongressDecodingError``, so an error never carries an API key. A mapping error rejects the one
/// item it names; nothing of that item is written.
public struct MappingError: Error, LocalizedError, CustomStringConvertible, Sendable, Hashable {
    /// The item a mapping error belongs to.
    public enum Subject: Sendable, Hashable {
        /// A committee meeting, by event id.
        case meeting(eventId: String)
        /// A committee, by system code (nil when the code itself is missing).
        case committee(systemCode: String?)
    }

    /// One wrong field: its path relative to the item (`witnesses[2].name`) and what is wrong.
    public struct Issue: Sendable, Hashable, CustomStringConvertible {
        /// The field's path relative to the item, in the API's spelling.
        public var field: String
        /// What is wrong, e.g. `missing` or `expected Hearing, Meeting or Markup, found "Briefing"`.
        public var problem: String

        /// An issue for `field`; the problem text is redacted.
        public init(field: String, problem: String) {
            self.field = field
            self.problem = CongressDecodingError.redacted(problem)
        }

        public var description: String { "field \"\(field)\": \(problem)" }
    }

    /// The item that could not be mapped.
    public var subject: Subject
    /// Every wrong field found, in field order; never empty.
    public var issues: [Issue]

    /// An error for `subject` with these issues.
    public init(subject: Subject, issues: [Issue]) {
        self.subject = subject
        self.issues = issues
    }

    /// The meeting's event id, or nil for a committee.
    public var eventId: String? {
        if case .meeting(let eventId) = subject { return eventId }
        return nil
    }

    /// `meeting <eventId>` or `committee <systemCode>`.
    public var item: String {
        switch subject {
        case .meeting(let eventId): return "meeting \(eventId)"
        case .committee(let systemCode): return "committee \(systemCode ?? "(no system code)")"
        }
    }

    /// The fields named, in order.
    public var fields: [String] { issues.map(\.field) }

    public var description: String {
        "\(item): " + issues.map(\.description).joined(separator: "; ")
    }

    public var errorDescription: String? { description }

    /// The problem text for a value outside `allowed`: `expected A, B or C, found "x"` (or `missing`).
    static func expectation(_ allowed: [String], found: String?) -> String {
        guard let found else { return "missing" }
        let list =
            allowed.count > 1
            ? allowed.dropLast().joined(separator: ", ") + " or " + (allowed.last ?? "") : allowed.joined()
        return "expected \(list), found \(CongressDecodingError.quoted(found))"
    }
}

/// Collects issues while an item is mapped, then throws them together.
struct IssueCollector {
    private(set) var issues: [MappingError.Issue] = []

    /// Records that `field` has `problem`.
    mutating func add(_ field: String, _ problem: String) {
        issues.append(MappingError.Issue(field: field, problem: problem))
    }

    /// Throws a ``MappingError`` for `subject` when any issue was recorded.
    func check(_ subject: MappingError.Subject) throws {
        guard issues.isEmpty else { throw MappingError(subject: subject, issues: issues) }
    }
}
