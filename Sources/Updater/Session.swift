import Foundation
import GRDB
import Journal
import Store

/// A writing session on a data home: the lock held, the database and the journal open, recovery done.
///
/// Every writing command (ingest, recover, revert, snapshot, import) works through one session, so the
/// write protocol and recovery live in one place. Not `Sendable`: it owns the journal and the lock.
public final class Session {
    public let home: DataHome
    public let store: Store
    public let journal: Journal
    /// What recovery found and did when the session opened.
    public private(set) var recovery: RecoveryReport
    /// The logical state checksum of the database, maintained from before/after images.
    public internal(set) var checksum: StateChecksum
    /// The id the next batch gets.
    public private(set) var nextBatchID: Int64
    private let lock: RunLock
    private let clock: @Sendable () -> Date
    /// While an atomic run is open, the checkpoint must not pass its start: recovery has to see it (and
    /// while a run is undone for an anomaly, its `anomaly` event).
    var checkpointCeiling: Int64?
    /// Test seam, internal on purpose: consulted by the ingest run before it applies each meeting's
    /// mutations, once per mutation, with the batch id and the mutation's 1-based number among those
    /// the batch has staged so far (rolled-back meetings included, so the k-th is reached only once).
    /// Throwing injects a failure at that point, as SQLite would raise it (see `Ingest.swift`).
    var mutationFault: ((_ batchID: Int64, _ mutation: Int) throws -> Void)?
    /// Test seam, internal on purpose: consulted before each compensation of a run undone for an
    /// anomaly, with the batch about to be undone (see `Session+RunHealth.swift`).
    var anomalyRevertFault: ((_ batchID: Int64) throws -> Void)?
    /// Benchmark seam, internal on purpose (no command can set it): `commitBatch` skips encoding,
    /// appending and fdatasyncing the intent but does everything else, so a benchmark can measure
    /// what the journal costs. A data home written this way has markers the journal does not back
    /// (recovery refuses it): use it only on a throwaway home.
    var journalingDisabledForBenchmark = false
    /// The ingest run in progress's committed batches and the rows they left, for its verify at the
    /// end (`RunLedger`); nil outside an ingest run.
    var runLedger: RunLedger?

    /// Takes the lock, opens (creating) the database and the journal, and runs recovery.
    ///
    /// - Parameters:
    ///   - journalFileSystem: the journal's file layer (tests inject faults through it).
    ///   - segmentSizeLimit: the journal's segment size (tests use small segments to have many).
    public init(
        home: DataHome, command: String, journalFileSystem: any FileSystem = PosixFileSystem(),
        clock: @escaping @Sendable () -> Date = { Date() }, segmentSizeLimit: UInt64 = 64 << 20
    ) throws {
        try FileManager.default.createDirectory(atPath: home.path, withIntermediateDirectories: true)
        self.home = home
        self.clock = clock
        lock = try RunLock.acquire(home: home, command: command)
        store = try Store(path: home.databasePath)
        journal = try journaling("cannot open the journal") {
            try Journal.open(
                JournalConfiguration(
                    directory: home.journalDirectory, segmentSizeLimit: segmentSizeLimit,
                    fileSystem: journalFileSystem, clock: clock))
        }
        let checkpoint = try store.queue.read { db in try Checkpoint.read(db) }
        checksum = checkpoint.checksum
        nextBatchID = checkpoint.nextBatchID
        recovery = RecoveryReport(tornBytesCut: journal.openReport.tornBytesCut)
        recovery = try journaling("recovery stopped: the journal failed") { try recover(from: checkpoint) }
    }

    /// Flushes the journal and releases the lock.
    public func close() throws {
        try journaling("the journal failed while closing") { try journal.close() }
        lock.release()
    }

    /// The current time by the session's clock.
    public func now() -> Date { clock() }

    /// The current time as the database's timestamps write it: `YYYY-MM-DD HH:MM:SS` (UTC).
    public func timestamp() -> String {
        String(rfc3339Milliseconds(clock()).prefix(19)).replacingOccurrences(of: "T", with: " ")
    }

    // MARK: Runs

    /// Appends `run_started` (durable) and returns the run id: the position of that event.
    public func startRun(_ started: RunStarted, extraKeys: [String] = []) throws -> Int64 {
        var event = started
        event.runID = Int64(journal.nextPosition)
        let positions = try journaling("the journal failed, the run stops") {
            try journal.append([
                try JournalEvent(
                    type: EventType.runStarted, fields: event,
                    keys: [JournalEvent.runKey(event.runID), JournalEvent.runsKey] + extraKeys)
            ])
        }
        if started.atomic { checkpointCeiling = Int64(positions.lowerBound) - 1 }
        return Int64(positions.lowerBound)
    }

    /// Appends `run_finished` and makes the journal durable; moves the checkpoint to the journal's end.
    public func finishRun(_ finished: RunFinished, extraKeys: [String] = []) throws {
        try journaling("the journal failed, the run stops") {
            try journal.append([
                try JournalEvent(
                    type: EventType.runFinished, fields: finished,
                    keys: [JournalEvent.runKey(finished.runID)] + extraKeys)
            ])
        }
        checkpointCeiling = nil
        try advanceCheckpoint()
    }

    /// Journals rejected items without waiting for the disk (the next durable append carries them).
    public func reject(_ items: [Rejected]) throws {
        guard !items.isEmpty else { return }
        try journaling("the journal failed, the run stops") {
            try journal.appendDeferred(
                try items.map {
                    try JournalEvent(
                        type: EventType.rejected, fields: $0, keys: [JournalEvent.runKey($0.runID)])
                })
        }
    }

    // MARK: The write protocol

    /// What `commitBatch` did.
    public struct BatchReport: Sendable {
        public var batchID: Int64
        public var result: BatchResult
        public var reason: String?
        public var mutations: [Mutation]
        public var intentPosition: UInt64?
    }

    /// What a batch's `prepare` step staged.
    public struct PreparedBatch {
        /// The mutations, already applied inside the open transaction, in order.
        public var mutations: [Mutation]
        /// Items left out, with reasons (journaled with the intent).
        public var rejected: [Rejected]

        /// A prepared batch.
        public init(mutations: [Mutation], rejected: [Rejected] = []) {
            self.mutations = mutations
            self.rejected = rejected
        }
    }

    /// Runs one batch with the write protocol of docs/architecture.md:
    ///
    /// 1. `BEGIN IMMEDIATE`; `prepare` computes the mutations from the rows as they are now (so
    ///    before-images hold by construction), assigns row ids and stages the mutations in the open
    ///    transaction (a later item sees what an earlier one created; an item SQLite refuses is rolled
    ///    back to its savepoint and rejected alone);
    /// 2. the intent (all mutations with before- and after-images, and the rejections) is appended and
    ///    fdatasynced; 3. the marker row and checkpoint are written in the same transaction;
    /// 4. `COMMIT`; 5. the outcome is appended (deferred: recovery can rebuild it from the marker).
    ///
    /// Nothing staged is visible to readers or survives a crash before COMMIT, and COMMIT comes only
    /// after the intent is durable: a committed batch always has its intent in the journal.
    /// A failure before COMMIT rolls back and journals `failed` with the reason; the session goes on.
    /// A journal write or fsync failure is not survivable: it is rethrown (the journal is unusable).
    public func commitBatch(
        runID: Int64, kind: BatchKind = .ingest, compensates: Int64? = nil, reason: String? = nil,
        items: [String], prepare: (Database) throws -> PreparedBatch
    ) throws -> BatchReport {
        var rejected: [Rejected] = []
        let batchID = nextBatchID
        nextBatchID += 1
        let started = clock()
        var intentPosition: UInt64?
        var mutations: [Mutation] = []
        var hashes: [(before: UInt64, after: UInt64)?] = []
        var after = checksum
        do {
            try store.queue.inDatabase { db in
                try db.inTransaction(.immediate) {
                    let prepared = try prepare(db)
                    mutations = prepared.mutations
                    rejected = prepared.rejected
                    guard !mutations.isEmpty else { return .rollback }
                    // Each image hashed once: for the state checksum and for the run's ledger.
                    hashes = mutations.map(StateChecksum.imageHashes(of:))
                    after = StateChecksum(
                        hashes.reduce(checksum.value) { value, pair in
                            value ^ (pair.map { $0.before ^ $0.after } ?? 0)
                        })
                    let intent = BatchIntent(
                        batchID: batchID, runID: runID, kind: kind, compensates: compensates, reason: reason,
                        items: items,
                        mutations: mutations, checksumBefore: checksum.description,
                        checksumAfter: after.description)
                    var keys = [JournalEvent.batchKey(batchID), JournalEvent.runKey(runID)]
                    var seen = Set<String>()
                    for mutation in mutations {
                        let key = JournalEvent.rowKey(table: mutation.table, key: mutation.key)
                        if seen.insert(key).inserted { keys.append(key) }
                    }
                    if let compensates { keys.append(JournalEvent.batchKey(compensates)) }
                    let rejections = try rejected.map { item in
                        var tagged = item
                        tagged.batchID = batchID
                        return try JournalEvent(
                            type: EventType.rejected, fields: tagged, keys: [JournalEvent.runKey(runID)])
                    }
                    let positions: ClosedRange<UInt64>
                    if journalingDisabledForBenchmark {
                        // The benchmark's baseline: no intent is encoded, written or synced; the marker
                        // names the position the intent would have had.
                        positions = journal.nextPosition...journal.nextPosition
                    } else {
                        positions = try journal.append(
                            rejections + [
                                JournalEvent(
                                    type: EventType.batchIntent, body: intent.journalBody(), keys: keys)
                            ])
                    }
                    intentPosition = positions.upperBound
                    try db.execute(
                        sql:
                            "INSERT INTO journal_batches (batch_id, intent_position, committed_at, state_checksum) VALUES (?, ?, ?, ?)",
                        arguments: [batchID, Int64(positions.upperBound), timestamp(), after.description])
                    try Checkpoint(
                        position: min(Int64(positions.upperBound), checkpointCeiling ?? Int64.max),
                        nextBatchID: batchID + 1,
                        checksum: after
                    ).write(db)
                    return .commit
                }
            }
        } catch let error as JournalError {
            throw UpdaterError(.failure, "the journal failed, the run stops: \(error)")
        } catch {
            // Rolled back: journal why the batch failed. Its rejections went out with the intent if it
            // was appended; otherwise they go now, naming the batch that carried them.
            if intentPosition == nil {
                try reject(
                    rejected.map {
                        var tagged = $0
                        tagged.batchID = batchID
                        return tagged
                    })
            }
            try appendOutcome(
                BatchOutcome(
                    batchID: batchID, runID: runID, result: .failed, reason: describe(error),
                    recovered: false,
                    stateChecksum: checksum.description, durationMilliseconds: milliseconds(since: started)),
                durable: false)
            return BatchReport(
                batchID: batchID, result: .failed, reason: describe(error), mutations: mutations,
                intentPosition: intentPosition)
        }
        guard let intentPosition else {
            // Nothing to change: no intent, no batch. The id is not used.
            nextBatchID -= 1
            try reject(rejected)
            return BatchReport(
                batchID: 0, result: .committed, reason: nil, mutations: [], intentPosition: nil)
        }
        if runLedger?.runID == runID {
            runLedger?.record(
                RunLedger.Batch(
                    batchID: batchID, position: intentPosition, checksumBefore: checksum.description,
                    checksumAfter: after.description),
                mutations: mutations, hashes: hashes)
        }
        checksum = after
        try appendOutcome(
            BatchOutcome(
                batchID: batchID, runID: runID, result: .committed, reason: nil, recovered: false,
                stateChecksum: after.description, durationMilliseconds: milliseconds(since: started)),
            durable: false)
        return BatchReport(
            batchID: batchID, result: .committed, reason: nil, mutations: mutations,
            intentPosition: intentPosition)
    }

    /// Undoes committed batch `batchID` with its compensating mutations (inverse images, reverse order),
    /// conflict-checked: every row must still equal the batch's after-image.
    ///
    /// - Throws: `UpdaterError.conflict` listing each conflict when a later change touched the rows;
    ///   nothing is changed or journaled then.
    public func compensate(batch batchID: Int64, runID: Int64, reason: String) throws -> BatchReport {
        guard let intent = try intent(ofBatch: batchID) else {
            throw UpdaterError(.failure, "batch \(batchID) is not in the journal")
        }
        let compensation = intent.mutations.inverse
        let conflicts = try store.queue.read { db in try Store.conflicts(of: compensation, db) }
        guard conflicts.isEmpty else {
            throw UpdaterError(
                .conflict,
                "batch \(batchID) cannot be undone: rows changed since it committed:\n"
                    + conflicts.map { "  " + $0.description }.joined(separator: "\n"))
        }
        let report = try commitBatch(
            runID: runID, kind: .compensation, compensates: batchID, reason: reason, items: intent.items
        ) { db in
            try Store.apply(compensation, db)
            return PreparedBatch(mutations: compensation)
        }
        if report.result == .failed {
            throw UpdaterError(
                .failure, "undoing batch \(batchID) failed: \(report.reason ?? "unknown reason")")
        }
        return report
    }

    /// The journaled intent of batch `batchID`, found through the journal index.
    public func intent(ofBatch batchID: Int64) throws -> BatchIntent? {
        for entry in try journal.entries(withKey: JournalEvent.batchKey(batchID)) {
            let envelope = try entry.decode(EventEnvelope.self)
            if envelope.type == EventType.batchIntent, envelope.batchID == batchID {
                return try entry.decode(BatchIntent.self)
            }
        }
        return nil
    }

    func appendOutcome(_ outcome: BatchOutcome, durable: Bool) throws {
        let event = try JournalEvent(
            type: EventType.batchOutcome, fields: outcome,
            keys: [JournalEvent.batchKey(outcome.batchID), JournalEvent.runKey(outcome.runID)])
        try journaling("the journal failed, the run stops") {
            if durable { try journal.append([event]) } else { try journal.appendDeferred([event]) }
        }
    }

    /// Records that the database reflects every journal event so far (up to an open atomic run).
    func advanceCheckpoint() throws {
        let position = min(Int64(journal.nextPosition - 1), checkpointCeiling ?? Int64.max)
        let next = nextBatchID
        let current = checksum
        try store.queue.write { db in
            try Checkpoint(position: position, nextBatchID: next, checksum: current).write(db)
        }
    }

    func nextBatchIDAtLeast(_ value: Int64) {
        nextBatchID = max(nextBatchID, value)
    }

    /// Takes a committed intent's after-checksum as the current state.
    func adoptChecksum(_ intent: BatchIntent) {
        if let after = StateChecksum(hex: intent.checksumAfter) { checksum = after }
    }

    private func milliseconds(since start: Date) -> Double {
        (clock().timeIntervalSince(start) * 1000).rounded()
    }
}

/// The `journal_checkpoint` row.
struct Checkpoint {
    var position: Int64
    var nextBatchID: Int64
    var checksum: StateChecksum

    static func read(_ db: Database) throws -> Checkpoint {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT position, next_batch_id, state_checksum FROM journal_checkpoint")
        else { return Checkpoint(position: 0, nextBatchID: 1, checksum: StateChecksum()) }
        let text: String = row["state_checksum"]
        return Checkpoint(
            position: row["position"], nextBatchID: row["next_batch_id"],
            checksum: StateChecksum(hex: text) ?? StateChecksum())
    }

    func write(_ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO journal_checkpoint (id, position, next_batch_id, state_checksum) VALUES (1, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET position = excluded.position, next_batch_id = excluded.next_batch_id,
                    state_checksum = excluded.state_checksum
                """, arguments: [position, nextBatchID, checksum.description])
    }
}

/// Runs a journal operation; a journal failure becomes an `UpdaterError` (exit status 1) whose message
/// names it (the call, the file, the errno's text). After a failed write or fsync the journal refuses
/// further work, so the command stops; the next one recovers.
@discardableResult
func journaling<T>(_ what: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as JournalError {
        throw UpdaterError(.failure, "\(what): \(error)")
    }
}

/// A description of `error` for journals and reports. GRDB's `DatabaseError` leaves bound values out.
func describe(_ error: any Error) -> String {
    if let error = error as? DatabaseError {
        return "SQLite refused the batch: \(error.message ?? "error \(error.resultCode)")"
    }
    return String(describing: error)
}
