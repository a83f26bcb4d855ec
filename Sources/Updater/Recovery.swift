import Foundation
import GRDB
import Journal
import Store

/// What recovery found and did.
public struct RecoveryReport: Sendable, Codable, Equatable {
    /// Bytes of torn journal tail cut when the journal opened.
    public var tornBytesCut: UInt64 = 0
    /// Journal events read (from the checkpoint to the end).
    public var eventsRead = 0
    /// The journal position recovery started reading from.
    public var fromPosition: UInt64 = 0
    /// One line per repair, in order.
    public var actions: [String] = []

    /// Whether recovery repaired anything.
    public var changedSomething: Bool { tornBytesCut > 0 || !actions.isEmpty }

    enum CodingKeys: String, CodingKey {
        case tornBytesCut = "torn_bytes_cut"
        case eventsRead = "events_read"
        case fromPosition = "from_position"
        case actions
    }
}

extension Session {
    /// Brings the database and the journal to one consistent state (docs/operations.md, "Recovery").
    ///
    /// Reads the journal from the database's checkpoint, so its cost does not grow with the journal:
    /// - an intent without outcome: `committed (recovered)` if its marker row exists, else
    ///   `aborted (recovered)`, except a compensation, which is applied (conflict-checked) and committed;
    /// - an outcome that disagrees with the marker is corrected (the marker is the truth);
    /// - a committed batch without marker (the database is an older copy): redone, before-images checked;
    /// - an atomic run that did not finish: its committed batches are compensated, newest first;
    /// - a marker beyond the journal's end (journal cut or lost): refused, pointing to `rebuild`.
    /// Recovery is journaled and idempotent; a crash during it is repaired by the next one.
    func recover(from checkpoint: Checkpoint) throws -> RecoveryReport {
        var report = RecoveryReport(tornBytesCut: journal.openReport.tornBytesCut)
        let journalEnd = Int64(journal.nextPosition - 1)
        let newestMarker = try store.queue.read { db in
            try Row.fetchOne(
                db,
                sql:
                    "SELECT batch_id, intent_position FROM journal_batches ORDER BY intent_position DESC LIMIT 1"
            )
        }
        if let newestMarker, Int64(newestMarker["intent_position"] as Int64) > journalEnd {
            let batch: Int64 = newestMarker["batch_id"]
            let position: Int64 = newestMarker["intent_position"]
            throw UpdaterError(
                .inconsistent,
                "the database records batch \(batch) at journal position \(position), but the journal ends at "
                    + "\(journalEnd): the journal was cut or lost. Nothing was changed. Rebuild a database that "
                    + "matches the journal with `hearings rebuild --position \(journalEnd) --output PATH`, or restore "
                    + "the journal folder from a backup.")
        }
        let start = UInt64(max(0, min(checkpoint.position, journalEnd)) + 1)
        report.fromPosition = start

        var intents: [(position: UInt64, intent: BatchIntent)] = []
        var outcomes: [Int64: BatchOutcome] = [:]
        var atomicRuns: [Int64: RunStarted] = [:]
        var anomalyReverts: [Int64: RunAnomaly] = [:]
        var finishedRuns = Set<Int64>()
        try journal.read(from: start) { entry in
            report.eventsRead += 1
            let envelope = try entry.decode(EventEnvelope.self)
            switch envelope.type {
            case EventType.batchIntent: intents.append((entry.position, try entry.decode(BatchIntent.self)))
            case EventType.batchOutcome:
                let outcome = try entry.decode(BatchOutcome.self)
                outcomes[outcome.batchID] = outcome
            case EventType.runStarted:
                let run = try entry.decode(RunStarted.self)
                if run.atomic { atomicRuns[run.runID] = run }
            case EventType.runFinished: if let run = envelope.runID { finishedRuns.insert(run) }
            case EventType.anomaly:
                let anomaly = try entry.decode(RunAnomaly.self)
                if anomaly.action == "revert" { anomalyReverts[anomaly.runID] = anomaly }
            default: break
            }
            return true
        }
        let markers = try store.queue.read { db in
            Set(
                try Int64.fetchAll(
                    db, sql: "SELECT batch_id FROM journal_batches WHERE intent_position >= ?",
                    arguments: [Int64(start)]))
        }
        var committed = markers
        // The checkpoint written with a batch's marker already covers its intent, but the outcome is
        // appended after COMMIT without waiting for the disk, so a crash can lose it: look the newest
        // marker's batch up by its key (an index lookup, whatever the journal's length).
        if let newestMarker, (newestMarker["intent_position"] as Int64) < Int64(start) {
            let batchID: Int64 = newestMarker["batch_id"]
            // Newest first: the outcome follows the intent, and usually settles it without decoding it.
            for entry in try journal.entries(withKey: JournalEvent.batchKey(batchID)).reversed() {
                let envelope = try entry.decode(EventEnvelope.self)
                guard envelope.batchID == batchID else { continue }
                if envelope.type == EventType.batchOutcome {
                    if try entry.decode(BatchOutcome.self).result == .committed { break }
                } else if envelope.type == EventType.batchIntent {
                    let intent = try entry.decode(BatchIntent.self)
                    try appendOutcome(
                        recoveredOutcome(intent, .committed, "the marker row shows it committed"),
                        durable: false)
                    report.actions.append("batch \(batchID): committed (recovered)")
                    break
                }
            }
        }
        for (position, intent) in intents {
            nextBatchIDAtLeast(intent.batchID + 1)
            let outcome = outcomes[intent.batchID]
            if markers.contains(intent.batchID) {
                if outcome?.result != .committed {
                    try appendOutcome(
                        recoveredOutcome(intent, .committed, "the marker row shows it committed"),
                        durable: false)
                    report.actions.append("batch \(intent.batchID): committed (recovered)")
                }
                adoptChecksum(intent)
            } else if outcome?.result == .committed || (outcome == nil && intent.kind == .compensation) {
                try redo(intent, at: position)
                committed.insert(intent.batchID)
                let why =
                    outcome == nil
                    ? "interrupted compensation completed" : "redone: the database was behind the journal"
                try appendOutcome(recoveredOutcome(intent, .committed, why), durable: false)
                report.actions.append("batch \(intent.batchID): \(why)")
            } else if outcome == nil {
                try appendOutcome(
                    recoveredOutcome(intent, .aborted, "no marker row: SQLite rolled the transaction back"),
                    durable: false)
                report.actions.append("batch \(intent.batchID): aborted (recovered)")
            }
        }
        // Runs that died while being undone for an anomaly: undo the rest of their batches, newest
        // first. The `anomaly` event lists them (the checkpoint is held before it while the run is open).
        for (runID, anomaly) in anomalyReverts.sorted(by: { $0.key < $1.key })
        where !finishedRuns.contains(runID) {
            let compensated = Set(
                intents.filter { $0.intent.kind == .compensation && committed.contains($0.intent.batchID) }
                    .compactMap(\.intent.compensates))
            for batchID in anomaly.batchIDs.reversed() where !compensated.contains(batchID) {
                let undone = try compensate(
                    batch: batchID, runID: runID, reason: "recovery: interrupted anomaly revert")
                report.actions.append(
                    "batch \(batchID): compensated by batch \(undone.batchID) (interrupted anomaly revert of run \(runID))"
                )
            }
            try finishRun(RunFinished(runID: runID, status: "reverted (recovered)", metrics: nil))
            finishedRuns.insert(runID)
            report.actions.append("run \(runID): anomaly revert completed")
        }
        // Atomic runs that did not finish: undo what they committed, newest first.
        for (runID, _) in atomicRuns.sorted(by: { $0.key < $1.key }) where !finishedRuns.contains(runID) {
            let compensated = Set(
                intents.filter { $0.intent.kind == .compensation && committed.contains($0.intent.batchID) }
                    .compactMap(\.intent.compensates))
            let toUndo = intents.filter {
                $0.intent.runID == runID && $0.intent.kind == .ingest && committed.contains($0.intent.batchID)
                    && !compensated.contains($0.intent.batchID)
            }
            guard !toUndo.isEmpty else {
                try finishRun(RunFinished(runID: runID, status: "aborted (recovered)", metrics: nil))
                report.actions.append("run \(runID): interrupted atomic run closed, nothing to undo")
                continue
            }
            for (_, intent) in toUndo.reversed() {
                let undone = try compensate(
                    batch: intent.batchID, runID: runID, reason: "recovery: interrupted atomic run")
                report.actions.append(
                    "batch \(intent.batchID): compensated by batch \(undone.batchID) (interrupted atomic run \(runID))"
                )
            }
            try finishRun(RunFinished(runID: runID, status: "aborted (recovered)", metrics: nil))
        }
        if !report.actions.isEmpty {
            try journal.append([
                try JournalEvent(
                    type: EventType.recovery,
                    fields: RecoveryEvent(runID: Int64(journal.nextPosition), actions: report.actions))
            ])
        }
        try advanceCheckpoint()
        return report
    }

    private func recoveredOutcome(_ intent: BatchIntent, _ result: BatchResult, _ reason: String)
        -> BatchOutcome
    {
        BatchOutcome(
            batchID: intent.batchID, runID: intent.runID, result: result, reason: reason, recovered: true,
            stateChecksum: result == .committed ? intent.checksumAfter : nil, durationMilliseconds: nil)
    }

    /// Applies a journaled intent that the database lacks, with its original batch id and position.
    private func redo(_ intent: BatchIntent, at position: UInt64) throws {
        do {
            try store.queue.inDatabase { db in
                try db.inTransaction(.immediate) {
                    try Store.apply(intent.mutations, db)
                    try db.execute(
                        sql:
                            "INSERT INTO journal_batches (batch_id, intent_position, committed_at, state_checksum) VALUES (?, ?, ?, ?)",
                        arguments: [intent.batchID, Int64(position), timestamp(), intent.checksumAfter])
                    return .commit
                }
            }
        } catch let error as ConflictError {
            throw UpdaterError(
                .inconsistent,
                "batch \(intent.batchID) is committed in the journal but cannot be redone: the database does not hold "
                    + "its before-images (\(error)). Nothing was changed. Rebuild with `hearings rebuild`.")
        }
        adoptChecksum(intent)
    }
}
