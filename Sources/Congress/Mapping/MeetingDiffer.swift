import Foundation
import GRDB
import Store

/// A diff that cannot be computed: a bad timestamp, or a database row the differ cannot read.
public struct DiffError: Error, LocalizedError, CustomStringConvertible, Sendable, Hashable {
    /// What went wrong.
    public var description: String
    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}

/// Turns the desired state of one meeting into the minimal row mutations for the database.
///
/// Contract of ``mutations(for:in:allocator:)``:
/// - Only mapped columns are compared (the columns of ``MappedHearing/columns`` and its siblings, plus
///   the foreign keys). An unchanged meeting yields no mutation; `created_at`/`updated_at` are never
///   compared and never touched unless another column of the row changes.
/// - An inserted row gets `created_at` (and `updated_at` where the table has it) = ``timestamp``; an
///   updated row keeps `created_at` and gets `updated_at` = ``timestamp``. Every value is in the
///   images; nothing is left to SQL defaults.
/// - Child rows are matched by their natural key: committee links by committee, appearances by
///   witness, documents by URL, transcripts by jacket number. Matched rows are updated when a mapped
///   column differs; unmatched desired rows are inserted; unmatched existing rows (removed upstream)
///   are deleted.
/// - Witnesses are shared by every meeting they appear at and found by `identity_key`. A new witness
///   is inserted; an existing one is never updated or deleted by a meeting's diff: its row describes
///   the person as first seen, each meeting's own view (position, type, order) lives in its
///   appearance, and letting meetings overwrite the shared row would make it flip between meetings
///   and depend on the order they are processed. A witness left without appearances is kept.
/// - Committees a meeting names but the database does not know are created from the meeting's
///   reference (``MappedCommittee/fallback(for:meeting:)``), full committees before subcommittees;
///   existing committees are never changed here (``CommitteeDiffer`` owns them). Hearings are never
///   deleted.
///
/// Order, which applies cleanly with foreign keys on: deletes of witness documents, meeting
/// documents, transcripts and committee links; committee inserts; witness inserts; the hearing's
/// insert or update; inserts and updates of committee links, appearances, witness documents, meeting
/// documents and transcripts; last, deletes of appearances (after the witness documents that pointed at
/// them have been deleted or re-linked).
public struct MeetingDiffer: Sendable {
    /// `YYYY-MM-DD HH:MM:SS` (UTC), written into `created_at`/`updated_at` of changed rows.
    public let timestamp: String

    /// A differ writing `timestamp` into changed rows.
    ///
    /// - Throws: ``DiffError`` unless `timestamp` is a valid `YYYY-MM-DD HH:MM:SS`.
    public init(timestamp: String) throws {
        try Self.validate(timestamp)
        self.timestamp = timestamp
    }

    /// The mutations that make the database hold `meeting`, in an order that applies cleanly.
    ///
    /// Reads the database (inside the caller's transaction) and takes new row ids from `allocator`;
    /// changes nothing. The caller applies the result with `Store.apply(_:_:)`.
    public func mutations(for meeting: MappedMeeting, in db: Database, allocator: inout RowIDAllocator) throws
        -> [Mutation]
    {
        var plan = Plan()
        let hearingID = try diffHearing(meeting.hearing, db, &allocator, &plan)
        let existing = plan.hearingIsNew ? nil : hearingID
        try diffCommitteeLinks(meeting, hearingID: hearingID, existing: existing, db, &allocator, &plan)
        let appearanceIDs = try diffAppearances(
            meeting, hearingID: hearingID, existing: existing, db, &allocator, &plan)
        try diffWitnessDocuments(
            meeting, hearingID: hearingID, existing: existing, appearanceIDs: appearanceIDs, db, &allocator,
            &plan)
        try diffChildren(
            Schema.supportingDocuments, key: "document_url", hearingID: hearingID, existing: existing,
            desired: meeting.supportingDocuments.map { ($0.documentURL, $0.columns) }, db, &allocator,
            into: &plan.supportingDocuments, deletes: &plan.childDeletes)
        try diffChildren(
            Schema.hearingTranscripts, key: "jacket_number", hearingID: hearingID, existing: existing,
            desired: meeting.transcripts.map { ($0.jacketNumber, $0.columns) }, db, &allocator,
            into: &plan.transcripts, deletes: &plan.childDeletes)
        return plan.ordered
    }

    // MARK: - Plan

    /// The mutations found so far, by position in the output.
    private struct Plan {
        var hearingIsNew = false
        var childDeletes: [Mutation] = []
        var committeeInserts: [Mutation] = []
        var witnessInserts: [Mutation] = []
        var hearing: [Mutation] = []
        var links: [Mutation] = []
        var appearances: [Mutation] = []
        var witnessDocuments: [Mutation] = []
        var supportingDocuments: [Mutation] = []
        var transcripts: [Mutation] = []
        var appearanceDeletes: [Mutation] = []

        var ordered: [Mutation] {
            let upserts = links + appearances + witnessDocuments + supportingDocuments + transcripts
            return childDeletes + committeeInserts + witnessInserts + hearing + upserts + appearanceDeletes
        }
    }

    // MARK: - Hearing

    private func diffHearing(
        _ hearing: MappedHearing, _ db: Database, _ allocator: inout RowIDAllocator, _ plan: inout Plan
    ) throws -> Int64 {
        let table = Schema.hearings
        if let before = try Store.rows(in: table, where: "event_id", equals: .text(hearing.eventId), db).first
        {
            let id = try Self.id(before, "hearing_id")
            if let mutation = update(table, before: before, mapped: hearing.columns) {
                plan.hearing.append(mutation)
            }
            return id
        }
        let id = try allocator.next(for: table, db)
        plan.hearingIsNew = true
        plan.hearing.append(
            insert(table, values: hearing.columns.merging(["hearing_id": .integer(id)]) { $1 }))
        return id
    }

    // MARK: - Committees

    private func diffCommitteeLinks(
        _ meeting: MappedMeeting, hearingID: Int64, existing: Int64?, _ db: Database,
        _ allocator: inout RowIDAllocator, _ plan: inout Plan
    ) throws {
        // Resolve every committee, creating unknown ones: full committees first, so a subcommittee
        // created in the same meeting can name its parent.
        var ids: [String: Int64] = [:]
        for link in meeting.committees {
            if let id = try Self.committeeID(link.systemCode, db, allocator) { ids[link.systemCode] = id }
        }
        let unknown = meeting.committees.filter { ids[$0.systemCode] == nil }
            .sorted {
                ($0.fallback.parentSystemCode != nil ? 1 : 0) < ($1.fallback.parentSystemCode != nil ? 1 : 0)
            }
        for link in unknown {
            let committee = link.fallback
            var values = committee.columns
            values["parent_committee_id"] =
                try committee.parentSystemCode
                .flatMap { try Self.committeeID($0, db, allocator) }.map(Value.integer) ?? .null
            let id = try allocator.next(for: Schema.committees, db)
            values["committee_id"] = .integer(id)
            allocator.recordCommittee(committee.systemCode, id: id)
            ids[committee.systemCode] = id
            plan.committeeInserts.append(insert(Schema.committees, values: values))
        }

        let table = Schema.hearingCommittees
        var current: [Int64: RowImage] = [:]
        if let existing {
            for row in try Store.rows(in: table, where: "hearing_id", equals: .integer(existing), db) {
                current[try Self.id(row, "committee_id")] = row
            }
        }
        var wanted: Set<Int64> = []
        for link in meeting.committees {
            guard let committeeID = ids[link.systemCode], wanted.insert(committeeID).inserted else {
                continue
            }
            let mapped: [String: Value] = [
                "hearing_id": .integer(hearingID), "committee_id": .integer(committeeID),
                "is_primary": .integer(link.isPrimary ? 1 : 0),
            ]
            if let before = current[committeeID] {
                if let mutation = update(table, before: before, mapped: mapped) {
                    plan.links.append(mutation)
                }
            } else {
                plan.links.append(insert(table, values: mapped))
            }
        }
        for (committeeID, row) in current.sorted(by: { $0.key < $1.key }) where !wanted.contains(committeeID)
        {
            plan.childDeletes.append(Mutation(kind: .delete, table: table, before: row, after: nil))
        }
    }

    /// The id of committee `systemCode`: in the database, or created earlier in this batch.
    static func committeeID(_ systemCode: String, _ db: Database, _ allocator: RowIDAllocator) throws
        -> Int64?
    {
        if let row = try Store.rows(
            in: Schema.committees, where: "system_code", equals: .text(systemCode), db
        ).first {
            return try id(row, "committee_id")
        }
        return allocator.createdCommittees[systemCode]
    }

    // MARK: - Witnesses and appearances

    /// Diffs the appearances; returns the appearance id of each witness by identity key.
    private func diffAppearances(
        _ meeting: MappedMeeting, hearingID: Int64, existing: Int64?, _ db: Database,
        _ allocator: inout RowIDAllocator, _ plan: inout Plan
    ) throws -> [String: Int64] {
        let table = Schema.witnessAppearances
        var current: [Int64: RowImage] = [:]
        if let existing {
            for row in try Store.rows(in: table, where: "hearing_id", equals: .integer(existing), db) {
                current[try Self.id(row, "witness_id")] = row
            }
        }
        var appearanceIDs: [String: Int64] = [:]
        var wanted: Set<Int64> = []
        for appearance in meeting.witnesses {
            let witnessID = try resolveWitness(appearance, db, &allocator, &plan)
            guard wanted.insert(witnessID).inserted else { continue }
            var mapped = appearance.appearanceColumns
            mapped["witness_id"] = .integer(witnessID)
            mapped["hearing_id"] = .integer(hearingID)
            if let before = current[witnessID] {
                appearanceIDs[appearance.identityKey] = try Self.id(before, "appearance_id")
                if let mutation = update(table, before: before, mapped: mapped) {
                    plan.appearances.append(mutation)
                }
            } else {
                let id = try allocator.next(for: table, db)
                appearanceIDs[appearance.identityKey] = id
                mapped["appearance_id"] = .integer(id)
                plan.appearances.append(insert(table, values: mapped))
            }
        }
        for (witnessID, row) in current.sorted(by: { $0.key < $1.key }) where !wanted.contains(witnessID) {
            plan.appearanceDeletes.append(Mutation(kind: .delete, table: table, before: row, after: nil))
        }
        return appearanceIDs
    }

    /// The witness id for `appearance`: found by identity key, or created (never updated).
    private func resolveWitness(
        _ appearance: MappedAppearance, _ db: Database, _ allocator: inout RowIDAllocator, _ plan: inout Plan
    ) throws -> Int64 {
        let table = Schema.witnesses
        let key = appearance.identityKey
        if let row = try Store.rows(in: table, where: "identity_key", equals: .text(key), db).first {
            return try Self.id(row, "witness_id")
        }
        if let pending = allocator.createdWitnesses[key] { return pending }
        let id = try allocator.next(for: table, db)
        allocator.recordWitness(key, id: id)
        var values = appearance.witnessColumns
        values["witness_id"] = .integer(id)
        plan.witnessInserts.append(insert(table, values: values))
        return id
    }

    // MARK: - Documents and transcripts

    private func diffWitnessDocuments(
        _ meeting: MappedMeeting, hearingID: Int64, existing: Int64?, appearanceIDs: [String: Int64],
        _ db: Database, _ allocator: inout RowIDAllocator, _ plan: inout Plan
    ) throws {
        let desired = meeting.witnessDocuments.map { document -> (String, [String: Value]) in
            var columns = document.columns
            columns["appearance_id"] =
                document.witnessIdentityKey.flatMap { appearanceIDs[$0] }.map(Value.integer) ?? .null
            return (document.documentURL, columns)
        }
        try diffChildren(
            Schema.witnessDocuments, key: "document_url", hearingID: hearingID, existing: existing,
            desired: desired, db, &allocator, into: &plan.witnessDocuments, deletes: &plan.childDeletes)
    }

    /// Diffs the rows of `table` belonging to the hearing, matched by the text of column `key`.
    private func diffChildren(
        _ table: TableSchema, key: String, hearingID: Int64, existing: Int64?,
        desired: [(key: String, columns: [String: Value])], _ db: Database, _ allocator: inout RowIDAllocator,
        into upserts: inout [Mutation], deletes: inout [Mutation]
    ) throws {
        var current: [String: RowImage] = [:]
        var unmatched: [RowImage] = []
        if let existing {
            for row in try Store.rows(in: table, where: "hearing_id", equals: .integer(existing), db) {
                if let text = row[key].text, current[text] == nil {
                    current[text] = row
                } else {
                    unmatched.append(row)
                }
            }
        }
        var wanted: Set<String> = []
        for (naturalKey, columns) in desired {
            guard wanted.insert(naturalKey).inserted else { continue }
            var mapped = columns
            mapped["hearing_id"] = .integer(hearingID)
            if let before = current[naturalKey] {
                if let mutation = update(table, before: before, mapped: mapped) { upserts.append(mutation) }
            } else {
                mapped[table.primaryKey[0]] = .integer(try allocator.next(for: table, db))
                upserts.append(insert(table, values: mapped))
            }
        }
        let removed = current.filter { !wanted.contains($0.key) }.map(\.value) + unmatched
        let primaryKey = table.primaryKey[0]
        for row in removed.sorted(by: { Self.order($0[primaryKey]) < Self.order($1[primaryKey]) }) {
            deletes.append(Mutation(kind: .delete, table: table, before: row, after: nil))
        }
    }

    // MARK: - Images

    /// An insert of a row holding `values`, the timestamps and NULL in every other column.
    func insert(_ table: TableSchema, values: [String: Value]) -> Mutation {
        var columns: [String: Value] = [:]
        columns.reserveCapacity(table.columns.count)
        for column in table.columns { columns[column] = values[column] ?? .null }
        if table.hasCreatedAt { columns["created_at"] = .text(timestamp) }
        if table.hasUpdatedAt { columns["updated_at"] = .text(timestamp) }
        return Mutation(kind: .insert, table: table, before: nil, after: RowImage(columns))
    }

    /// An update of `before` to the `mapped` values, or nil when they already hold; `updated_at` (where
    /// the table has it) becomes the timestamp, `created_at` is kept.
    func update(_ table: TableSchema, before: RowImage, mapped: [String: Value]) -> Mutation? {
        // Most rows of a daily run are unchanged: compare the mapped values before copying the row.
        guard mapped.contains(where: { before[$0.key] != $0.value }) else { return nil }
        var after = before
        for (column, value) in mapped { after[column] = value }
        if table.hasUpdatedAt { after["updated_at"] = .text(timestamp) }
        return Mutation(kind: .update, table: table, before: before, after: after)
    }

    /// The integer in `column` of `row`.
    static func id(_ row: RowImage, _ column: String) throws -> Int64 {
        guard case .integer(let id) = row[column] else {
            throw DiffError("expected an integer in \(column), found \(row[column])")
        }
        return id
    }

    /// A row id as a sort key (non-integers first).
    private static func order(_ value: Value) -> Int64 {
        if case .integer(let id) = value { return id }
        return .min
    }

    /// Checks that `timestamp` is a valid `YYYY-MM-DD HH:MM:SS`.
    static func validate(_ timestamp: String) throws {
        let shape = Array(timestamp.utf8)
        let separators: [Int: UInt8] = [4: 0x2D, 7: 0x2D, 10: 0x20, 13: 0x3A, 16: 0x3A]
        let shaped =
            shape.count == 19
            && shape.indices.allSatisfy { index in
                separators[index].map { shape[index] == $0 } ?? (0x30...0x39).contains(shape[index])
            }
        guard shaped, CongressDate.parse(timestamp + "Z") != nil else {
            throw DiffError("expected a timestamp like 2025-10-02 12:00:00, found \"\(timestamp)\"")
        }
    }
}
