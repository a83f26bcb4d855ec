import GRDB
import Store

/// Hands out row ids for one batch, before any of its mutations is applied.
///
/// Each table's first id is `Store.nextRowID` (one past both the largest id present and the largest
/// ever used), read the first time the table is asked for; later ids count up from there, so every
/// meeting of a batch can be diffed before the batch is applied and ids are decided before apply, as
/// replay requires.
///
/// It also remembers the shared rows the batch creates: witnesses by identity key and committees by
/// system code. A later meeting of the same batch that names the same witness or committee links to
/// the pending row instead of inserting it a second time (which the UNIQUE keys would refuse).
///
/// Contract: use one allocator per batch transaction, for mutations applied in the order they were
/// diffed. It is a value: to leave out an item whose mutations were not applied (a rejected meeting, a
/// rolled-back savepoint), restore a copy taken before diffing it; otherwise later items could link to
/// witnesses or committees that item would have created. Discard it when the batch is rolled back.
public struct RowIDAllocator: Sendable {
    private var nextIDs: [String: Int64] = [:]
    /// Witnesses this batch creates: identity key → witness id.
    public private(set) var createdWitnesses: [String: Int64] = [:]
    /// Committees this batch creates: system code → committee id.
    public private(set) var createdCommittees: [String: Int64] = [:]

    /// An allocator that has handed out nothing yet.
    public init() {}

    /// The next unused id of `table` (its first primary-key column).
    public mutating func next(for table: TableSchema, _ db: Database) throws -> Int64 {
        let id: Int64
        if let known = nextIDs[table.name] {
            id = known
        } else {
            id = try Store.nextRowID(for: table, db)
        }
        nextIDs[table.name] = id + 1
        return id
    }

    /// Records that this batch creates the witness `identityKey` with id `id`.
    mutating func recordWitness(_ identityKey: String, id: Int64) { createdWitnesses[identityKey] = id }

    /// Records that this batch creates the committee `systemCode` with id `id`.
    mutating func recordCommittee(_ systemCode: String, id: Int64) { createdCommittees[systemCode] = id }
}
