import Foundation
import Journal
import Store

/// The updater's events about batches, found through the journal index: what audit, revert and the
/// revert checks need, each event read from the journal at most once.
///
/// Every lookup goes through an index key (`batch:<id>`, `row:<table>:<key>`) or a position, so the
/// cost depends on the batch and the rows it touched, not on the journal's length.
final class BatchHistory {
    let journal: Journal
    private var lines: [UInt64: [UInt8]] = [:]
    /// Heads (up to the mutations) of large intents read ahead whose lines were not kept.
    private var heads: [UInt64: EventLineReader.Head] = [:]
    private var intents: [UInt64: BatchIntent?] = [:]
    private var batches: [Int64: BatchEvents] = [:]
    private var undone: [Int64: Int64?] = [:]
    private var rowImages: [String: RowImage?] = [:]
    /// Row keys audit will look up (parents of its rows): one scan of an intent harvests them all.
    private var wantedRows = RowSet()
    /// Per scanned intent: the images of wanted rows it holds, and which rows the scan looked for.
    private var harvests: [UInt64: (images: [String: RowImage], covered: RowSet)] = [:]
    /// Index candidates per key, looked up one by one or ahead of time in one pass (`prefetch(keys:)`).
    private var keyPositions: [String: [UInt64]] = [:]

    /// The position after the last event this history sees: index candidates from `end` on are left
    /// out (events a writer appended after the caller's own view of the journal).
    let end: UInt64

    init(_ journal: Journal, before end: UInt64 = .max) {
        self.journal = journal
        self.end = end
    }

    /// The positions of events that may carry index key `key` (`Journal.positions(withKey:)`), looked
    /// up once.
    func positions(withKey key: String) throws -> [UInt64] {
        if let known = keyPositions[key] { return known }
        let found = try journal.positions(withKey: key).filter { $0 < end }
        keyPositions[key] = found
        return found
    }

    /// Looks up the index keys `keys` that are not known yet, in one pass over the index
    /// (`Journal.positions(withKeys:)`): audit names every key it will need (a row key per row of a
    /// batch, and of each parent row) before asking for any.
    func prefetch(keys: [String]) throws {
        let missing = Array(Set(keys.filter { keyPositions[$0] == nil }))
        guard !missing.isEmpty else { return }
        for (key, positions) in zip(missing, try journal.positions(withKeys: missing)) {
            keyPositions[key] = positions.filter { $0 < end }
        }
    }

    /// Reads the events at `positions` not read yet, each record once, and those at `nearby` that
    /// need no read of their own (`Journal.entries(at:nearby:)`), for the lookups that follow.
    ///
    /// Of an intent larger than `largeIntent`, only the head is kept: the events read ahead are later
    /// batches, whose heads are all audit needs, and keeping hundreds of whole intents (an initial
    /// load's are 400 KB) made the process touch megabytes of new memory, a page fault per 4 KiB. Such
    /// an intent's line, if asked for after all, is read again.
    func prefetch(positions: [UInt64], nearby: [UInt64] = []) throws {
        let missing = positions.filter { !isRead($0) }
        guard !missing.isEmpty else { return }
        try journal.entries(at: missing, nearby: nearby.filter { !isRead($0) }) { entry in
            if entry.line.count > Self.largeIntent,
                try EventLineReader.head(entry.line, typeOnly: true).type == EventType.batchIntent
            {
                heads[entry.position] = try EventLineReader.head(entry.line, beforeMutations: true)
            } else {
                lines[entry.position] = entry.line
            }
        }
    }

    /// The size (bytes) above which `prefetch(positions:nearby:)` keeps only an intent's head.
    static let largeIntent = 8_192

    private func isRead(_ position: UInt64) -> Bool { lines[position] != nil || heads[position] != nil }

    /// One journaled outcome of a batch.
    struct OutcomeEvent {
        var position: UInt64
        var time: String
        var outcome: BatchOutcome
    }

    /// What the journal holds under `batch:<id>`: the batch's intent, its outcomes, and the intents of
    /// the compensations that undo it.
    struct BatchEvents {
        var intentPosition: UInt64?
        var intentTime: String?
        var outcomes: [OutcomeEvent] = []
        /// Heads of compensation intents whose `compensates` is this batch, in journal order.
        var compensations: [EventLineReader.Head] = []

        /// The outcome that stands: the last one journaled (recovery appends corrections after).
        var outcome: OutcomeEvent? { outcomes.last }
    }

    /// The events of batch `id`.
    func events(ofBatch id: Int64) throws -> BatchEvents {
        if let known = batches[id] { return known }
        var result = BatchEvents()
        for position in try positions(withKey: JournalEvent.batchKey(id)) {
            // Intents can be large: their heads are read only up to the mutations.
            guard let head = try head(at: position) else { continue }
            switch head.type {
            case EventType.batchIntent where head.batchID == id:
                result.intentPosition = position
                result.intentTime = head.time
            case EventType.batchIntent
            where head.compensates == id && head.kind == BatchKind.compensation.rawValue:
                // Rare, and its reason (after the mutations) is shown: read in full.
                guard let line = try line(at: position) else { continue }
                result.compensations.append(try EventLineReader.head(line))
            case EventType.batchOutcome where head.batchID == id:
                guard let line = try line(at: position) else { continue }
                result.outcomes.append(
                    OutcomeEvent(
                        position: position, time: head.time, outcome: try EventLineReader.outcome(line)))
            default: continue
            }
        }
        batches[id] = result
        return result
    }

    /// The head of the event at `position` (an intent's up to its mutations), or nil beyond the end.
    func head(at position: UInt64) throws -> EventLineReader.Head? {
        if let known = heads[position] { return known }
        guard let line = try line(at: position) else { return nil }
        return try EventLineReader.head(line, beforeMutations: true)
    }

    /// The intent journaled at `position`, or nil when that event is not a batch intent.
    func intent(at position: UInt64) throws -> BatchIntent? {
        if let known = intents[position] { return known }
        var result: BatchIntent?
        if let line = try line(at: position),
            try EventLineReader.head(line, typeOnly: true).type == EventType.batchIntent
        {
            result = try EventLineReader.intent(line)
        }
        intents[position] = .some(result)
        return result
    }

    /// The intent at `position` with only the mutations of the rows in `rows`; the other row images
    /// are skipped, not decoded. Nil when that event is not a batch intent.
    func intent(at position: UInt64, keepingRows rows: RowSet) throws -> BatchIntent? {
        if let known = intents[position] {
            return known.map { intent in
                var kept = intent
                kept.mutations = intent.mutations.filter { rows.contains(table: $0.table, key: $0.key) }
                return kept
            }
        }
        guard let line = try line(at: position),
            try EventLineReader.head(line, typeOnly: true).type == EventType.batchIntent
        else { return nil }
        return try EventLineReader.intent(line, keeping: rows)
    }

    /// Declares rows that `rowImage(table:id:near:)` will be asked for, so that each intent is scanned
    /// once for all of them.
    func want(_ rows: RowSet) { wantedRows.formUnion(rows) }

    /// The committed compensation that currently undoes batch `id`, if any: a compensation whose last
    /// outcome is `committed` and which is not itself undone. Reverting a revert re-applies the batch,
    /// so the chain is followed to its end.
    func undoneBy(_ id: Int64) throws -> Int64? {
        if let known = undone[id] { return known }
        var result: Int64?
        for compensation in try events(ofBatch: id).compensations {
            // A compensation always has a larger id than the batch it undoes, so this terminates.
            guard let batchID = compensation.batchID, batchID > id,
                try events(ofBatch: batchID).outcome?.outcome.result == .committed,
                try undoneBy(batchID) == nil
            else { continue }
            result = batchID
        }
        undone[id] = .some(result)
        return result
    }

    /// The `run_started` event of run `runID` and its time. A run's id is the position of its
    /// `run_started` event (`Session.startRun`), so it is read by position; the event is checked.
    func runStarted(_ runID: Int64) throws -> (time: String, run: RunStarted)? {
        guard runID > 0, let line = try line(at: UInt64(runID)) else { return nil }
        let head = try EventLineReader.head(line, typeOnly: true)
        guard head.type == EventType.runStarted else { return nil }
        let run = try JSONDecoder().decode(RunStarted.self, from: Data(line))
        return run.runID == runID ? (head.time, run) : nil
    }

    /// The items rejected with batch `id`, whose intent is at `intentPosition`.
    ///
    /// `Session.commitBatch` journals a batch's rejections in the intent's own record, just before the
    /// intent, tagged with the batch id: they are read backwards from the intent, in windows that
    /// grow until one starts with an event that is not one of them.
    func rejected(batch id: Int64, intentPosition: UInt64) throws -> [Rejected] {
        // Most batches reject nothing: the first window is the one event before the intent.
        var window: UInt64 = 1
        while true {
            let first = intentPosition > window ? intentPosition - window : 1
            var found: [Rejected] = []
            var reachedOther = false
            var events: [(head: EventLineReader.Head, line: [UInt8])] = []
            try journal.read(from: first, through: intentPosition - 1) { entry in
                events.append((try EventLineReader.head(entry.line, typeOnly: true), entry.line))
                return true
            }
            for (head, line) in events.reversed() {
                guard head.type == EventType.rejected else {
                    reachedOther = true
                    break
                }
                let item = try JSONDecoder().decode(Rejected.self, from: Data(line))
                guard item.batchID == id else {
                    reachedOther = true
                    break
                }
                found.append(item)
            }
            if reachedOther || first == 1 || intentPosition <= 1 { return found.reversed() }
            window *= 16
        }
    }

    /// The image of the row of `table` whose single-column primary key is `id`, from the intent at
    /// `position` or, failing that, the nearest intent that touched the row (earlier ones first).
    func rowImage(table: TableSchema, id: Value, near position: UInt64) throws -> RowImage? {
        guard table.primaryKey.count == 1 else { return nil }
        let key = RowImage([table.primaryKey[0]: id])
        let rowKey = JournalEvent.rowKey(table: table.name, key: key)
        if let known = rowImages[rowKey] { return known }
        wantedRows.insert(table: table.name, key: key)
        let candidates = try positions(withKey: rowKey)
        let ordered = candidates.filter { $0 <= position }.reversed() + candidates.filter { $0 > position }
        var result: RowImage?
        for candidate in ordered {
            if let image = try harvest(candidate, for: rowKey) {
                result = image
                break
            }
        }
        rowImages[rowKey] = .some(result)
        return result
    }

    /// The image of `rowKey` in the intent at `position` (after the intent, else before it), scanning
    /// the intent once for every wanted row.
    private func harvest(_ position: UInt64, for rowKey: String) throws -> RowImage? {
        if let known = harvests[position], known.covered.contains(rowKey: rowKey) {
            return known.images[rowKey]
        }
        let covered = wantedRows
        var images: [String: RowImage] = [:]
        for mutation in try intent(at: position, keepingRows: covered)?.mutations ?? [] {
            if let image = mutation.after ?? mutation.before {
                images[JournalEvent.rowKey(table: mutation.table, key: mutation.key)] = image
            }
        }
        harvests[position] = (images, covered)
        return images[rowKey]
    }

    private func line(at position: UInt64) throws -> [UInt8]? {
        if let known = lines[position] { return known }
        guard let entry = try journal.entry(at: position) else { return nil }
        lines[position] = entry.line
        return entry.line
    }
}

/// A set of rows, by table and primary key. Audit filters other batches' mutations through it, once per
/// mutation, so membership must be cheap: no `row:` key string is built for a row of another table.
struct RowSet {
    private var keys: [String: Set<RowImage>] = [:]
    private var rowKeys = Set<String>()

    /// The tables the set holds rows of.
    var tables: Dictionary<String, Set<RowImage>>.Keys { keys.keys }

    /// Whether the row of `table` with primary key `key` is in the set.
    func contains(table: String, key: RowImage) -> Bool { keys[table]?.contains(key) ?? false }

    /// Whether the row whose index key is `rowKey` (`row:<table>:<key>`) is in the set.
    func contains(rowKey: String) -> Bool { rowKeys.contains(rowKey) }

    /// The index keys (`row:<table>:<key>`) of the rows in the set.
    var indexKeys: Set<String> { rowKeys }

    mutating func insert(table: String, key: RowImage) {
        keys[table, default: []].insert(key)
        rowKeys.insert(JournalEvent.rowKey(table: table, key: key))
    }

    mutating func formUnion(_ other: RowSet) {
        for (table, keys) in other.keys {
            for key in keys { insert(table: table, key: key) }
        }
    }
}
