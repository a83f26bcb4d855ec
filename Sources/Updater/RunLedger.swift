import GRDB
import Journal
import Store

/// What a run's committed batches left, kept as they commit, for the run verify at the end of the run
/// (`Session.verifyRun`): each batch's intent position and state checksums, and for each table the
/// rows the run changed (as sets of key ranges) with the XOR of the row hashes the run left in them.
///
/// Why not read the run's intents back: the verify read and decoded the run's part of the journal
/// three times (its records, its heads, its mutations twice over), about a seventh of a daily run's
/// CPU; and it kept a key per changed row. The ledger costs no journal read (the intent's images are
/// hashed once, for the state checksum, and the hashes are reused here) and, because row ids are
/// given in ascending order, its ranges stay few however many rows a run inserts.
///
/// It says the same as the run's intents: the run verify checks that the journal's records read back
/// are exactly those this session wrote (`Journal.verifyRecords(from:)` ends on the hash of the last
/// record appended), and each intent was written from the mutations the ledger was built from.
struct RunLedger {
    /// A committed batch, as its intent and marker name it.
    struct Batch {
        var batchID: Int64
        var position: UInt64
        /// As the intent writes them (`StateChecksum.description`).
        var checksumBefore: String
        var checksumAfter: String
    }

    /// The run.
    let runID: Int64
    /// The run's committed batches, in commit order.
    private(set) var batches: [Batch] = []
    /// Per table of `Schema.managedTables` (same order): the rows the run changed and what it left.
    private(set) var tables: [TouchedRows] = Schema.managedTables.map { _ in TouchedRows() }
    /// Rows whose key does not pack into 64 bits (see `packedKey`), by journal row key: the row hash
    /// the run left, 0 for no row. Rows the updater writes never land here (ids are positive and small).
    private(set) var unpacked: [String: (table: TableSchema, key: RowImage, hash: UInt64)] = [:]

    init(runID: Int64) { self.runID = runID }

    /// Adds committed batch `batch` and its mutations, with each mutation's image hashes (as
    /// `StateChecksum.imageHashes(of:)` gives them; nil for a table the checksum does not cover).
    mutating func record(_ batch: Batch, mutations: [Mutation], hashes: [(before: UInt64, after: UInt64)?]) {
        batches.append(batch)
        for (mutation, hashes) in zip(mutations, hashes) {
            guard let hashes, let index = Self.tableIndex[mutation.table] else { continue }
            let table = Schema.managedTables[index]
            guard let key = Self.packedKey(of: mutation.key, in: table) else {
                unpacked[JournalEvent.rowKey(table: mutation.table, key: mutation.key)] = (
                    table, mutation.key, hashes.after
                )
                continue
            }
            // Touched before in this run: its before-image is what the run left there (the guarded
            // statement that applied it checked so), so that hash leaves the XOR and the new one enters.
            if tables[index].insert(key) {
                tables[index].expected ^= hashes.after
            } else {
                tables[index].expected ^= hashes.before ^ hashes.after
            }
        }
    }

    /// The tables whose changed rows, read from the database now, do not hash (XOR of the row hashes)
    /// to what the run left; and the unpackable rows that differ, by journal row key. Empty: every row
    /// the run changed holds what the run's last mutation of it left (or is absent, if that deleted it).
    ///
    /// A row changed behind the run's back makes its table differ unless the XOR of 64-bit hashes
    /// cancels, as with the state checksum (about one chance in 2^64).
    func differingRows(_ db: Database) throws -> [String] {
        var differing: [String] = []
        for (index, table) in Schema.managedTables.enumerated() {
            var found: UInt64 = 0
            for range in tables[index].ranges() {
                try StateChecksum.forEachRowHash(
                    in: table, from: Self.keyValues(range.lowerBound, in: table),
                    through: Self.keyValues(range.upperBound, in: table), db
                ) { key, hash in
                    // A composite key between the bounds in row-value order may lie outside the range
                    // of packed keys (a second column past 32 bits): not a row of the range.
                    guard let packed = Self.packedKey(key, in: table), range.contains(packed) else { return }
                    found ^= hash
                }
            }
            if found != tables[index].expected { differing.append(table.name) }
        }
        for (rowKey, row) in unpacked.sorted(by: { $0.key < $1.key }) {
            let current = try Store.row(in: row.table, key: row.key, db)
            if (current.map { StateChecksum.rowHash(table: row.table, row: $0) } ?? 0) != row.hash {
                differing.append(rowKey)
            }
        }
        return differing
    }

    private static let tableIndex = Dictionary(
        uniqueKeysWithValues: Schema.managedTables.enumerated().map { ($1.name, $0) })

    /// A row's key as one 64-bit number, ordered as the key: a key of one integer column ≥ 0 is that
    /// integer; a key of two is the first in the high 32 bits and the second in the low 32, both in
    /// 0..<2^32. Anything else: nil.
    static func packedKey(of key: RowImage, in table: TableSchema) -> UInt64? {
        packedKey(
            table.primaryKey.map { column -> Int64? in
                if case .integer(let value) = key[column] { return value }
                return nil
            }, in: table)
    }

    static func packedKey(_ values: [Int64?], in table: TableSchema) -> UInt64? {
        switch values.count {
        case 1:
            guard let value = values[0], value >= 0 else { return nil }
            return UInt64(value)
        case 2:
            guard let high = values[0], let low = values[1], (0..<(1 << 32)).contains(high),
                (0..<(1 << 32)).contains(low)
            else { return nil }
            return UInt64(high) << 32 | UInt64(low)
        default:
            return nil
        }
    }

    /// The key column values of packed key `packed` (the inverse of `packedKey`).
    static func keyValues(_ packed: UInt64, in table: TableSchema) -> [Int64] {
        table.primaryKey.count == 2 ? [Int64(packed >> 32), Int64(packed & 0xffff_ffff)] : [Int64(packed)]
    }
}

/// The keys of one table's rows a run changed, as sorted disjoint ranges, and the XOR of the row
/// hashes the run left in them.
///
/// Rows a run inserts get ascending ids, so they extend the last range; other keys (updates and
/// deletes of older rows) wait in a set and are merged into the ranges when it grows, so the ranges
/// stay sorted without an insertion into the middle of the array per key.
struct TouchedRows {
    /// XOR of the hashes of the rows the run left (0 for a row it deleted).
    var expected: UInt64 = 0
    private var sorted: [ClosedRange<UInt64>] = []
    private var recent: Set<UInt64> = []

    /// Adds `key`; returns whether it was not there yet.
    ///
    /// `recent` holds only keys below the last range's end and outside every range, so a key past that
    /// end is new without a look-up.
    mutating func insert(_ key: UInt64) -> Bool {
        guard let last = sorted.last else {
            sorted.append(key...key)
            return true
        }
        if key > last.upperBound {
            if key == last.upperBound + 1 {
                sorted[sorted.count - 1] = last.lowerBound...key
            } else {
                sorted.append(key...key)
            }
            return true
        }
        if Self.contains(key, in: sorted) || !recent.insert(key).inserted { return false }
        if recent.count >= 4096 {
            sorted = Self.merge(sorted, recent)
            recent = []
        }
        return true
    }

    /// Every key added, as sorted disjoint ranges.
    func ranges() -> [ClosedRange<UInt64>] { Self.merge(sorted, recent) }

    private static func contains(_ key: UInt64, in ranges: [ClosedRange<UInt64>]) -> Bool {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < key { low = middle + 1 } else { high = middle }
        }
        return low < ranges.count && ranges[low].contains(key)
    }

    /// `ranges` and `keys` as one sorted list of disjoint ranges, neighbours joined.
    private static func merge(_ ranges: [ClosedRange<UInt64>], _ keys: Set<UInt64>) -> [ClosedRange<UInt64>] {
        guard !keys.isEmpty else { return ranges }
        let all = (ranges + keys.sorted().map { $0...$0 }).sorted { $0.lowerBound < $1.lowerBound }
        var result: [ClosedRange<UInt64>] = []
        result.reserveCapacity(all.count)
        for range in all {
            if let last = result.last,
                last.upperBound == UInt64.max || range.lowerBound <= last.upperBound + 1
            {
                result[result.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }
}
