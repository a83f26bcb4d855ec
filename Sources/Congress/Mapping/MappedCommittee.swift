import Foundation
import Store

/// The desired state of one `committees` row, without `committee_id` and the timestamps.
///
/// The parent is named by system code; the differ turns it into `parent_committee_id`.
public struct MappedCommittee: Sendable, Hashable {
    /// The system code, e.g. `hsap06`; never empty.
    public var systemCode: String
    /// The committee's name.
    public var name: String
    /// `House`, `Senate`, `Joint` or `NoChamber`.
    public var chamber: String
    /// One of ``types``.
    public var type: String
    /// The parent committee's system code, or nil for a full committee.
    public var parentSystemCode: String?
    /// Whether the committee exists in the current congress: always true for mapped committees.
    public var isCurrent: Bool
    /// The committee's API URL.
    public var url: String?
    /// The congress the caller read the committee list for.
    public var congress: Int

    /// A committee row from its parts.
    public init(
        systemCode: String, name: String, chamber: String, type: String, parentSystemCode: String?,
        isCurrent: Bool = true, url: String?, congress: Int
    ) {
        self.systemCode = systemCode
        self.name = name
        self.chamber = chamber
        self.type = type
        self.parentSystemCode = parentSystemCode
        self.isCurrent = isCurrent
        self.url = url
        self.congress = congress
    }

    /// The committee types the table accepts.
    public static let types = [
        "Standing", "Select", "Special", "Joint", "Task Force", "Other", "Subcommittee",
        "Commission or Caucus",
    ]
    /// The committee chambers the table accepts.
    public static let chambers = ["House", "Senate", "Joint", "NoChamber"]

    /// Maps an entry of the committee list (`GET /committee/{congress}`).
    ///
    /// system_code, name and URL as sent; chamber and type must be one of ``chambers`` and ``types``
    /// (letter case is normalised); the parent is the entry's `parent.systemCode`; `is_current` = 1;
    /// `congress` is the caller's.
    ///
    /// - Throws: a ``MappingError`` naming the committee and every wrong field (missing system code or
    ///   name, unknown chamber or type).
    public init(_ item: CommitteeListItem, congress: Int) throws {
        var issues = IssueCollector()
        let code = nonEmpty(item.systemCode).map(TextFolding.trimmed)
        if code == nil { issues.add("systemCode", item.systemCode == nil ? "missing" : "empty") }
        let name = nonEmpty(item.name)
        if name == nil { issues.add("name", item.name == nil ? "missing" : "empty") }
        let chamber = Self.canonical(item.chamber, among: Self.chambers)
        if chamber == nil {
            issues.add("chamber", MappingError.expectation(Self.chambers, found: item.chamber))
        }
        let type = Self.canonical(item.committeeTypeCode, among: Self.types)
        if type == nil {
            issues.add(
                "committeeTypeCode", MappingError.expectation(Self.types, found: item.committeeTypeCode))
        }
        try issues.check(.committee(systemCode: code ?? item.systemCode))
        self.init(
            systemCode: code ?? "", name: name ?? "", chamber: chamber ?? "", type: type ?? "",
            parentSystemCode: nonEmpty(item.parent?.systemCode).map(TextFolding.trimmed),
            url: nonEmpty(item.url), congress: congress)
    }

    /// The committee row to create for a meeting's reference to a committee the database does not know.
    ///
    /// system_code, name and URL from the reference (the name falls back to the system code);
    /// chamber `Joint` for a system code starting with `j`, else the meeting's chamber; type `Standing`
    /// when the code ends in `00` (a full committee), else `Subcommittee` with the parent named by the
    /// code with its last two characters replaced by `00` (`hsap06` → `hsap00`; the differ links it
    /// when that committee is known); congress the meeting's. Nil when the reference has no system code.
    public static func fallback(for reference: CommitteeReference, meeting: CommitteeMeeting)
        -> MappedCommittee?
    {
        guard let code = nonEmpty(reference.systemCode).map(TextFolding.trimmed)
        else {
            return nil
        }
        let isFull = code.hasSuffix("00") || code.count < 3
        return MappedCommittee(
            systemCode: code,
            name: nonEmpty(reference.name) ?? code,
            chamber: code.lowercased().hasPrefix("j") ? "Joint" : meeting.chamber.rawValue,
            type: isFull ? "Standing" : "Subcommittee",
            parentSystemCode: isFull ? nil : String(code.dropLast(2)) + "00",
            url: nonEmpty(reference.url),
            congress: meeting.congress)
    }

    /// The mapped columns (without `committee_id`, `parent_committee_id` and the timestamps).
    public var columns: [String: Value] {
        [
            "system_code": .text(systemCode), "name": .text(name), "chamber": .text(chamber),
            "type": .text(type),
            "is_current": .integer(isCurrent ? 1 : 0), "url": .optionalText(url),
            "congress": .integer(Int64(congress)),
        ]
    }

    private static func canonical(_ value: String?, among allowed: [String]) -> String? {
        guard let value else { return nil }
        let trimmed = TextFolding.trimmed(value).lowercased()
        return allowed.first { $0.lowercased() == trimmed }
    }
}
