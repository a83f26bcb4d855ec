import Foundation
import Journal
import Store

/// What one batch did, from the journal alone: `hearings audit BATCH`.
///
/// Encoded (snake_case keys, every key always present, `null` when unknown) as the stable JSON document
/// of `hearings audit --format json`, described in docs/operations.md.
public struct BatchAudit: Encodable, Sendable, Equatable {
    /// The run that made the batch, from its `run_started` event.
    public struct Run: Encodable, Sendable, Equatable {
        public var runID: Int64
        /// When the run started (RFC 3339, UTC).
        public var time: String
        public var command: String
        public var source: String?
        public var congress: Int?
        public var lookbackDays: Int?
        public var batchSize: Int?
        public var atomic: Bool

        enum CodingKeys: String, CodingKey {
            case runID = "run_id"
            case time, command, source, congress, atomic
            case lookbackDays = "lookback_days"
            case batchSize = "batch_size"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(runID, forKey: .runID)
            try container.encode(time, forKey: .time)
            try container.encode(command, forKey: .command)
            try container.encode(source, forKey: .source)
            try container.encode(congress, forKey: .congress)
            try container.encode(lookbackDays, forKey: .lookbackDays)
            try container.encode(batchSize, forKey: .batchSize)
            try container.encode(atomic, forKey: .atomic)
        }
    }

    /// How the batch ended, from its last `batch_outcome` event.
    public struct Outcome: Encodable, Sendable, Equatable {
        public var result: BatchResult
        public var reason: String?
        /// Whether recovery, not the batch's own run, wrote the outcome.
        public var recovered: Bool
        public var position: UInt64
        public var time: String
        public var durationMilliseconds: Double?
        public var stateChecksum: String?

        enum CodingKeys: String, CodingKey {
            case result, reason, recovered, position, time
            case durationMilliseconds = "duration_ms"
            case stateChecksum = "state_checksum"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(result, forKey: .result)
            try container.encode(reason, forKey: .reason)
            try container.encode(recovered, forKey: .recovered)
            try container.encode(position, forKey: .position)
            try container.encode(time, forKey: .time)
            try container.encode(durationMilliseconds, forKey: .durationMilliseconds)
            try container.encode(stateChecksum, forKey: .stateChecksum)
        }
    }

    /// One field of a mutation: `before` is absent for an insert, `after` for a delete; a JSON `null`
    /// value is SQL NULL.
    public struct FieldChange: Encodable, Sendable, Equatable {
        public var field: String
        public var before: Value?
        public var after: Value?
    }

    /// One mutation of the batch.
    public struct MutationRecord: Encodable, Sendable, Equatable {
        /// 1-based, in the order the batch applied them.
        public var number: Int
        public var operation: Mutation.Kind
        public var table: String
        /// The primary key (row ids).
        public var key: RowImage
        /// What identifies the row to people: the event id of a hearing, the system code of a committee,
        /// a witness's full name and organization; a child row's parent by the parent's natural key.
        public var naturalKey: RowImage
        /// The natural key as one line, in the table's order.
        public var label: String
        /// Update: the fields that changed. Insert and delete: every field.
        public var changes: [FieldChange]

        enum CodingKeys: String, CodingKey {
            case number, operation, table, key, label, changes
            case naturalKey = "natural_key"
        }
    }

    /// An item the batch left out, and why.
    public struct RejectedItem: Encodable, Sendable, Equatable {
        public var item: String
        public var field: String
        public var problem: String
    }

    /// A compensation of this batch (a revert, an atomic-run undo, recovery).
    public struct Compensation: Encodable, Sendable, Equatable {
        public var batchID: Int64
        public var position: UInt64
        public var time: String
        public var reason: String?
        /// nil while the compensation has no outcome (recovery completes it).
        public var result: BatchResult?
        /// The compensation that undid this compensation (re-applying the batch), if any.
        public var undoneBy: Int64?

        enum CodingKeys: String, CodingKey {
            case position, time, reason, result
            case batchID = "batch_id"
            case undoneBy = "undone_by"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(batchID, forKey: .batchID)
            try container.encode(position, forKey: .position)
            try container.encode(time, forKey: .time)
            try container.encode(reason, forKey: .reason)
            try container.encode(result, forKey: .result)
            try container.encode(undoneBy, forKey: .undoneBy)
        }
    }

    /// A row of this batch, by table, primary key and natural key (as in `MutationRecord`).
    public struct RowReference: Encodable, Sendable, Equatable {
        public var table: String
        public var key: RowImage
        public var label: String
    }

    /// A later batch that changed some of this batch's rows.
    public struct LaterBatch: Encodable, Sendable, Equatable {
        public var batchID: Int64
        public var position: UInt64
        public var time: String
        public var kind: BatchKind
        public var compensates: Int64?
        /// nil while the batch has no outcome.
        public var result: BatchResult?
        /// This batch's rows it touched, in this batch's order.
        public var rows: [RowReference]

        enum CodingKeys: String, CodingKey {
            case position, time, kind, compensates, result, rows
            case batchID = "batch_id"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(batchID, forKey: .batchID)
            try container.encode(position, forKey: .position)
            try container.encode(time, forKey: .time)
            try container.encode(kind, forKey: .kind)
            try container.encode(compensates, forKey: .compensates)
            try container.encode(result, forKey: .result)
            try container.encode(rows, forKey: .rows)
        }
    }

    public var batchID: Int64
    /// nil when the batch failed before its intent was journaled (then it has only an outcome).
    public var kind: BatchKind?
    public var compensates: Int64?
    public var reason: String?
    public var items: [String]
    public var intentPosition: UInt64?
    /// When the intent was journaled (else the outcome).
    public var time: String?
    public var run: Run?
    public var outcome: Outcome?
    public var checksumBefore: String?
    public var checksumAfter: String?
    public var mutations: [MutationRecord]
    public var rejected: [RejectedItem]
    public var compensations: [Compensation]
    /// The committed compensation that currently undoes this batch, if any.
    public var revertedBy: Int64?
    public var laterBatches: [LaterBatch]

    enum CodingKeys: String, CodingKey {
        case kind, compensates, reason, items, time, run, outcome, mutations, rejected, compensations
        case batchID = "batch_id"
        case intentPosition = "intent_position"
        case checksumBefore = "checksum_before"
        case checksumAfter = "checksum_after"
        case revertedBy = "reverted_by"
        case laterBatches = "later_batches"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(batchID, forKey: .batchID)
        try container.encode(kind, forKey: .kind)
        try container.encode(compensates, forKey: .compensates)
        try container.encode(reason, forKey: .reason)
        try container.encode(items, forKey: .items)
        try container.encode(intentPosition, forKey: .intentPosition)
        try container.encode(time, forKey: .time)
        try container.encode(run, forKey: .run)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(checksumBefore, forKey: .checksumBefore)
        try container.encode(checksumAfter, forKey: .checksumAfter)
        try container.encode(mutations, forKey: .mutations)
        try container.encode(rejected, forKey: .rejected)
        try container.encode(compensations, forKey: .compensations)
        try container.encode(revertedBy, forKey: .revertedBy)
        try container.encode(laterBatches, forKey: .laterBatches)
    }
}

/// `hearings audit`: one batch from the journal alone.
public enum Audit {
    /// Audits batch `batchID` from `journal` alone: no database, no lock; the journal may be open
    /// read-only. Every event is found through the index (`batch:<id>`, `row:<table>:<key>`, the run's
    /// position), so the cost depends on the batch, not on the journal's length.
    ///
    /// - Returns: nil when the journal holds neither an intent nor an outcome of the batch.
    public static func batch(_ batchID: Int64, in journal: Journal) throws -> BatchAudit? {
        let history = BatchHistory(journal)
        let events = try history.events(ofBatch: batchID)
        guard events.intentPosition != nil || !events.outcomes.isEmpty else { return nil }
        let intent = try events.intentPosition.flatMap { try history.intent(at: $0) }
        let outcome = events.outcome
        let runID = intent?.runID ?? outcome?.outcome.runID
        var audit = BatchAudit(
            batchID: batchID, kind: intent?.kind, compensates: intent?.compensates, reason: intent?.reason,
            items: intent?.items ?? [], intentPosition: events.intentPosition,
            time: events.intentTime ?? outcome?.time,
            run: try runID.flatMap { try history.runStarted($0) }.map { time, run in
                BatchAudit.Run(
                    runID: run.runID, time: time, command: run.command, source: run.source,
                    congress: run.congress, lookbackDays: run.lookbackDays, batchSize: run.batchSize,
                    atomic: run.atomic)
            },
            outcome: outcome.map {
                BatchAudit.Outcome(
                    result: $0.outcome.result, reason: $0.outcome.reason, recovered: $0.outcome.recovered,
                    position: $0.position, time: $0.time,
                    durationMilliseconds: $0.outcome.durationMilliseconds,
                    stateChecksum: $0.outcome.stateChecksum)
            },
            checksumBefore: intent?.checksumBefore, checksumAfter: intent?.checksumAfter, mutations: [],
            rejected: [], compensations: [], revertedBy: nil, laterBatches: [])
        for compensation in events.compensations {
            guard let id = compensation.batchID else { continue }
            audit.compensations.append(
                BatchAudit.Compensation(
                    batchID: id, position: compensation.position, time: compensation.time,
                    reason: compensation.reason,
                    result: try history.events(ofBatch: id).outcome?.outcome.result,
                    undoneBy: try history.undoneBy(id)))
        }
        audit.revertedBy = try history.undoneBy(batchID)
        guard let intent, let position = events.intentPosition else { return audit }

        audit.rejected = try history.rejected(batch: batchID, intentPosition: position).map {
            BatchAudit.RejectedItem(item: $0.item, field: $0.field, problem: $0.problem)
        }
        let rowKeys = intent.mutations.map { JournalEvent.rowKey(table: $0.table, key: $0.key) }
        // Each row once, at its first mutation, in the batch's order.
        var seen = Set<String>()
        let firstMutations = rowKeys.indices.filter { seen.insert(rowKeys[$0]).inserted }
        let distinctRowKeys = firstMutations.map { rowKeys[$0] }
        // Later batches and natural keys need different events (the rows' later intents; the parents'
        // earlier ones), each about half the work: the later batches are looked up on a second thread,
        // through a read-only handle of its own (a `Journal` is not shared between threads), which must
        // hold the events this handle knows (`mark`) and sees no others: a writer appending meanwhile
        // changes nothing, and a folder replaced meanwhile is an error, not a different answer.
        let configuration = journal.configuration
        let mark = try journal.mark()
        let later = Handoff<Result<[LaterTouch], any Error>>()
        DispatchQueue.global().async {
            later.set(
                Result {
                    try laterTouches(
                        after: position, rowKeys: distinctRowKeys, configuration: configuration, mark: mark)
                })
        }
        // Whatever happens below, the second thread is done with the journal's files before this returns.
        defer { _ = later.wait() }

        var keys = NaturalKeys(history: history, position: position, intent: intent)
        // Every parent's key looked up in one pass over the index before any of them is used.
        try history.prefetch(keys: keys.parentKeys)
        for (number, mutation) in intent.mutations.enumerated() {
            let natural = try keys.naturalKey(of: mutation, number: number)
            audit.mutations.append(
                BatchAudit.MutationRecord(
                    number: number + 1, operation: mutation.kind, table: mutation.table, key: mutation.key,
                    naturalKey: RowImage(Dictionary(natural, uniquingKeysWith: { first, _ in first })),
                    label: NaturalKeys.label(natural), changes: changes(of: mutation)))
        }
        guard let touches = try later.wait()?.get() else {
            throw UpdaterError(.failure, "audit: the later batches of batch \(batchID) were not looked up")
        }
        audit.laterBatches = touches.map { touch in
            BatchAudit.LaterBatch(
                batchID: touch.batchID, position: touch.position, time: touch.time, kind: touch.kind,
                compensates: touch.compensates, result: touch.result,
                rows: touch.rows.map { row in
                    let mutation = audit.mutations[firstMutations[row]]
                    return BatchAudit.RowReference(
                        table: mutation.table, key: mutation.key, label: mutation.label)
                })
        }
        return audit
    }

    /// The field-level diff of a mutation, in the table's column order.
    static func changes(of mutation: Mutation) -> [BatchAudit.FieldChange] {
        switch mutation.kind {
        case .insert:
            let after = mutation.after ?? RowImage([:])
            return columns(of: mutation.table, in: after).map {
                BatchAudit.FieldChange(field: $0, before: nil, after: after[$0])
            }
        case .delete:
            let before = mutation.before ?? RowImage([:])
            return columns(of: mutation.table, in: before).map {
                BatchAudit.FieldChange(field: $0, before: before[$0], after: nil)
            }
        case .update:
            let before = mutation.before ?? RowImage([:])
            let after = mutation.after ?? RowImage([:])
            return columns(of: mutation.table, in: before, after).filter { before[$0] != after[$0] }.map {
                BatchAudit.FieldChange(field: $0, before: before[$0], after: after[$0])
            }
        }
    }

    /// The columns of the images: the table's declared order, then any others by name.
    private static func columns(of table: String, in images: RowImage...) -> [String] {
        let declared = Schema.table(named: table)?.columns ?? []
        // The usual case, an image of exactly the table's columns, without building sets.
        if images.allSatisfy({
            $0.columns.count == declared.count && declared.allSatisfy($0.columns.keys.contains)
        }) {
            return declared
        }
        let present = Set(images.flatMap(\.columns.keys))
        let kept = declared.filter(present.contains)
        return kept + present.subtracting(kept).sorted()
    }

    /// A later batch that touched rows of the audited batch: `BatchAudit.LaterBatch` without the rows'
    /// labels (natural keys), which the other thread works out.
    struct LaterTouch: Sendable {
        var batchID: Int64
        var position: UInt64
        var time: String
        var kind: BatchKind
        var compensates: Int64?
        var result: BatchResult?
        /// Indices in the row keys looked up of the rows it touched, in that order.
        var rows: [Int]
    }

    /// `laterTouches(after:rowKeys:history:)` through a read-only handle of its own on the journal of
    /// `configuration`, which must hold the events of `mark` (the caller's view); it sees only those.
    private static func laterTouches(
        after position: UInt64, rowKeys: [String], configuration: JournalConfiguration, mark: Journal.Mark
    ) throws -> [LaterTouch] {
        let journal = try Journal.open(configuration, mode: .readOnly)
        let touches: [LaterTouch]
        do {
            try journal.requireHistory(mark)
            touches = try laterTouches(
                after: position, rowKeys: rowKeys, history: BatchHistory(journal, before: mark.nextPosition))
        } catch {
            // The lookup's error is the one to report; the handle only read.
            try? journal.close()
            throw error
        }
        try journal.close()
        return touches
    }

    /// Later batches that touched any of the rows whose index keys are `rowKeys`, found through the
    /// `row:` keys of the index.
    ///
    /// Which of the rows a later batch touched is what the index says: the later intents are read for
    /// their head only (ids, kind), not decoded, because a big batch's rows can have been touched by
    /// hundreds of later batches. (The index stores 64-bit hashes of keys; a false match has a
    /// probability of about one in 10^12 per row in a journal of a million events.)
    static func laterTouches(after position: UInt64, rowKeys: [String], history: BatchHistory) throws
        -> [LaterTouch]
    {
        try history.prefetch(keys: rowKeys)
        var touched: [UInt64: [Int]] = [:]
        for (row, rowKey) in rowKeys.enumerated() {
            for later in try history.positions(withKey: rowKey) where later > position {
                touched[later, default: []].append(row)
            }
        }
        // Read ahead what the loop below reads one by one: the later events (each record once, with
        // the event after each when it comes with the read: usually the batch's outcome), the
        // `batch:` keys of the batches they belong to (one pass over the index), then those batches'
        // events not read yet.
        let laterPositions = touched.keys.sorted()
        try history.prefetch(positions: laterPositions, nearby: laterPositions.map { $0 + 1 })
        var laterIDs: [Int64] = []
        for later in laterPositions {
            guard let head = try history.head(at: later), head.type == EventType.batchIntent,
                let batchID = head.batchID
            else { continue }
            laterIDs.append(batchID)
        }
        let batchKeys = laterIDs.map(JournalEvent.batchKey)
        try history.prefetch(keys: batchKeys)
        try history.prefetch(positions: batchKeys.flatMap { try history.positions(withKey: $0) })
        var result: [LaterTouch] = []
        for later in laterPositions {
            guard let rows = touched[later], let head = try history.head(at: later),
                head.type == EventType.batchIntent,
                let batchID = head.batchID, let kind = head.kind.flatMap(BatchKind.init(rawValue:))
            else { continue }
            let events = try history.events(ofBatch: batchID)
            guard events.intentPosition == later else { continue }
            result.append(
                LaterTouch(
                    batchID: batchID, position: later, time: head.time, kind: kind,
                    compensates: head.compensates, result: events.outcome?.outcome.result, rows: rows))
        }
        return result
    }
}

/// Natural keys of rows: a table's `naturalKey` columns, where a column that refers to a parent row
/// (`hearing_id`, `committee_id`, `witness_id`) is replaced by the parent's natural key. Parents come
/// from the images in the same intent or, when absent, from the nearest intent that touched them (the
/// `row:` keys of the index), never from the database: audit works from the journal alone.
struct NaturalKeys {
    /// The tables a natural-key column refers to.
    static let parents: [String: TableSchema] = [
        "hearing_id": Schema.hearings, "committee_id": Schema.committees, "witness_id": Schema.witnesses,
    ]

    let history: BatchHistory
    let position: UInt64
    /// The index keys of the parent rows the intent lacks (looked up in other intents).
    let parentKeys: [String]
    /// The images in the intent of rows with a single-column primary key, by table and key value.
    private var local: [Slot: RowImage] = [:]
    /// Each mutation's table, looked up once.
    private let tables: [TableSchema?]

    /// A row of a table with a single-column primary key: no string is built to find it.
    private struct Slot: Hashable {
        var table: String
        var id: Value
    }

    init(history: BatchHistory, position: UInt64, intent: BatchIntent) {
        self.history = history
        self.position = position
        let tables = intent.mutations.map { Schema.table(named: $0.table) }
        self.tables = tables
        for (mutation, table) in zip(intent.mutations, tables) {
            guard let table, table.primaryKey.count == 1 else { continue }
            // The after-image wins: it is the row as the batch left it.
            for image in [mutation.before, mutation.after].compactMap({ $0 }) {
                local[Slot(table: table.name, id: image[table.primaryKey[0]])] = image
            }
        }
        // Parents the intent lacks are looked up in other intents; naming them all first lets one scan
        // of an intent serve every parent it holds (a committee batch holds hundreds).
        var wanted = RowSet()
        for (mutation, table) in zip(intent.mutations, tables) {
            guard let table else { continue }
            let image = mutation.after ?? mutation.before ?? mutation.key
            for column in table.naturalKey {
                guard let parent = Self.parents[column], parent.name != table.name,
                    local[Slot(table: parent.name, id: image[column])] == nil
                else { continue }
                wanted.insert(table: parent.name, key: RowImage([parent.primaryKey[0]: image[column]]))
            }
        }
        history.want(wanted)
        parentKeys = Array(wanted.indexKeys)
    }

    /// The natural key of the row that mutation number `number` (0-based) of the intent changed, as
    /// (column, value) pairs in the table's order.
    mutating func naturalKey(of mutation: Mutation, number: Int) throws -> [(String, Value)] {
        guard let table = tables[number] else {
            return mutation.key.columns.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
        let image = mutation.after ?? mutation.before ?? mutation.key
        var result: [(String, Value)] = []
        for column in table.naturalKey {
            guard let parent = Self.parents[column], parent.name != table.name else {
                result.append((column, image[column]))
                continue
            }
            let id = image[column]
            let parentImage =
                if let known = local[Slot(table: parent.name, id: id)] {
                    known
                } else {
                    try history.rowImage(table: parent, id: id, near: position)
                }
            if let parentImage {
                result += parent.naturalKey.map { ($0, parentImage[$0]) }
            } else {
                result.append((column, id))
            }
        }
        return result
    }

    /// A natural key as people read it: the values, text unquoted, joined by " / ".
    static func label(_ key: [(String, Value)]) -> String {
        key.map { $0.1.text ?? "NULL" }.joined(separator: " / ")
    }
}

extension BatchAudit {
    /// The audit for people (what `hearings audit` prints without `--format json`).
    public var text: String {
        var lines: [String] = []
        let kindText =
            switch kind {
            case .compensation?:
                "compensation of batch \(compensates.map(String.init) ?? "?")"
                    + (reason.map { " (\($0))" } ?? "")
            case .ingest?: "ingest"
            case nil: "no intent journaled"
            }
        let resultText =
            outcome.map { $0.result.rawValue + ($0.recovered ? " (recovered)" : "") } ?? "no outcome yet"
        lines.append("batch \(batchID): \(kindText), \(resultText)")
        if let run {
            var details = ["source \(run.source ?? "none")"]
            if let congress = run.congress { details.append("congress \(congress)") }
            details.append("look-back \(run.lookbackDays.map { "\($0) days" } ?? "none")")
            if let size = run.batchSize { details.append("batch size \(size)") }
            if run.atomic { details.append("atomic") }
            lines.append(
                "  run \(run.runID) (\(run.command)) started \(run.time): " + details.joined(separator: ", "))
        } else {
            lines.append("  run: unknown (its run_started event is not in the journal)")
        }
        if let intentPosition, let time {
            lines.append(
                "  intent at position \(intentPosition), \(time); \(items.count) items, \(mutations.count) mutations"
            )
        }
        if let outcome {
            var text = "  outcome at position \(outcome.position), \(outcome.time)"
            if let duration = outcome.durationMilliseconds { text += ", took \(Self.number(duration)) ms" }
            if let reason = outcome.reason { text += ": \(reason)" }
            lines.append(text)
        }
        if let before = checksumBefore, let after = checksumAfter {
            lines.append("  state checksum \(before) → \(after)")
        }
        if !items.isEmpty { lines.append("  items: " + items.joined(separator: ", ")) }
        lines.append(revertedBy.map { "  reverted by batch \($0)" } ?? "  not reverted")

        lines.append("")
        lines.append("mutations (\(mutations.count)):")
        for mutation in mutations {
            let key = mutation.key.columns.sorted { $0.key < $1.key }.map {
                "\($0.key)=\(Self.display($0.value))"
            }
            lines.append(
                "  \(mutation.number). \(mutation.operation.rawValue) \(mutation.table) \(mutation.label) "
                    + "(\(key.joined(separator: ", ")))")
            for change in mutation.changes {
                switch (change.before, change.after) {
                case (let before?, let after?):
                    lines.append("       \(change.field): \(Self.display(before)) → \(Self.display(after))")
                case (let value?, nil), (nil, let value?):
                    lines.append("       \(change.field): \(Self.display(value))")
                case (nil, nil): lines.append("       \(change.field)")
                }
            }
        }
        lines.append("")
        lines.append("rejected items (\(rejected.count)):")
        for item in rejected { lines.append("  \(item.item) \(item.field): \(item.problem)") }
        lines.append("")
        lines.append("compensations (\(compensations.count)):")
        for compensation in compensations {
            lines.append(
                "  batch \(compensation.batchID) (\(compensation.reason ?? "no reason")), "
                    + "\(compensation.result?.rawValue ?? "no outcome yet"), \(compensation.time)"
                    + (compensation.undoneBy.map { "; undone by batch \($0)" } ?? ""))
        }
        lines.append("")
        lines.append("later batches that touched these rows (\(laterBatches.count)):")
        for later in laterBatches {
            let kind =
                later.kind == .compensation
                ? "compensation of batch \(later.compensates.map(String.init) ?? "?")" : later.kind.rawValue
            lines.append(
                "  batch \(later.batchID) (\(kind), \(later.result?.rawValue ?? "no outcome yet")), \(later.time):"
            )
            for row in later.rows {
                let key = row.key.columns.sorted { $0.key < $1.key }.map {
                    "\($0.key)=\(Self.display($0.value))"
                }
                lines.append("    \(row.table) \(row.label) (\(key.joined(separator: ", ")))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A value on one line: text quoted, with quotes, backslashes and control characters escaped (titles
    /// hold tabs and line breaks), so a diff line never spills onto the next.
    static func display(_ value: Value) -> String {
        guard case .text(let text) = value else { return value.description }
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || (0x7f..<0xa0).contains(scalar.value):
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int64(value)) : String(value)
    }
}
