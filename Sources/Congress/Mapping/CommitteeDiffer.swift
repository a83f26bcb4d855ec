import GRDB
import Store

/// Turns the committee list into the minimal mutations of the `committees` table.
///
/// Contract of ``mutations(for:in:allocator:)``: committees are matched by system code. A new one is
/// inserted with `created_at` = `updated_at` = ``timestamp``; an existing one is updated (keeping
/// `created_at`, `updated_at` = ``timestamp``) only when a mapped column differs: name, chamber,
/// type, parent, `is_current`, URL, congress. Committees missing from the list are left alone
/// (meetings still reference them); nothing is deleted. Parents come before their subcommittees; a
/// parent that is neither in the database nor in the list leaves `parent_committee_id` NULL. When a
/// system code is listed twice, the first entry counts.
public struct CommitteeDiffer: Sendable {
    /// `YYYY-MM-DD HH:MM:SS` (UTC), written into `created_at`/`updated_at` of changed rows.
    public let timestamp: String

    /// A differ writing `timestamp` into changed rows.
    ///
    /// - Throws: ``DiffError`` unless `timestamp` is a valid `YYYY-MM-DD HH:MM:SS`.
    public init(timestamp: String) throws {
        try MeetingDiffer.validate(timestamp)
        self.timestamp = timestamp
    }

    /// The mutations that make the database hold `committees`, parents first.
    ///
    /// Reads the database (inside the caller's transaction), takes new ids from `allocator` and records
    /// the committees it creates there (so meetings diffed later in the batch link to them); changes
    /// nothing. The caller applies the result with `Store.apply(_:_:)`.
    public func mutations(for committees: [MappedCommittee], in db: Database, allocator: inout RowIDAllocator)
        throws -> [Mutation]
    {
        let rowDiffer = try MeetingDiffer(timestamp: timestamp)
        var seen: Set<String> = []
        let unique = committees.filter { seen.insert($0.systemCode).inserted }
        var result: [Mutation] = []
        for committee in Self.parentsFirst(unique) {
            var mapped = committee.columns
            mapped["parent_committee_id"] =
                try committee.parentSystemCode.flatMap { try MeetingDiffer.committeeID($0, db, allocator) }
                .map(Value.integer) ?? .null
            let table = Schema.committees
            let existing = try Store.rows(
                in: table, where: "system_code", equals: .text(committee.systemCode), db
            ).first
            if let before = existing {
                if let mutation = rowDiffer.update(table, before: before, mapped: mapped) {
                    result.append(mutation)
                }
            } else {
                let id = try allocator.next(for: table, db)
                mapped["committee_id"] = .integer(id)
                allocator.recordCommittee(committee.systemCode, id: id)
                result.append(rowDiffer.insert(table, values: mapped))
            }
        }
        return result
    }

    /// `committees` reordered so each comes after its parent when the parent is listed; otherwise the
    /// given order is kept (a cycle is broken at its first member in list order).
    static func parentsFirst(_ committees: [MappedCommittee]) -> [MappedCommittee] {
        let listed = Set(committees.map(\.systemCode))
        var placed: Set<String> = []
        var result: [MappedCommittee] = []
        var remaining = committees
        while !remaining.isEmpty {
            let ready = remaining.filter { committee in
                guard let parent = committee.parentSystemCode, parent != committee.systemCode else {
                    return true
                }
                return !listed.contains(parent) || placed.contains(parent)
            }
            let next = ready.isEmpty ? [remaining[0]] : ready
            let nextCodes = Set(next.map(\.systemCode))
            result += next
            placed.formUnion(nextCodes)
            remaining.removeAll { nextCodes.contains($0.systemCode) }
        }
        return result
    }
}
