import Foundation
import GRDB
import Journal
import Store

/// Where a rebuild stops.
public enum RebuildTarget: Sendable, Equatable, CustomStringConvertible {
    /// Every event at or before this journal position.
    case position(UInt64)
    /// The state right after this batch committed (its intent position).
    case batch(Int64)
    /// Every event whose time is at or before this instant (inclusive: events stamped exactly at the
    /// instant count).
    case time(Date)

    public var description: String {
        switch self {
        case .position(let position): return "position \(position)"
        case .batch(let batch): return "batch \(batch)"
        case .time(let date): return "time \(rfc3339Milliseconds(date))"
        }
    }
}

/// What a rebuild did (or, for a dry run, would do).
public struct RebuildReport: Codable, Sendable {
    public var target: String
    /// The journal position the rebuilt database reflects.
    public var position: UInt64
    /// The snapshot it started from (nil: an empty database).
    public var snapshot: String?
    public var batchesReplayed: [Int64]
    public var mutationsReplayed: Int
    public var eventsRead: Int
    /// The state checksum the journal records at the target, and the one of the rebuilt file.
    public var expectedChecksum: String
    public var checksum: String?
    public var output: String
    public var dryRun: Bool
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case target, position, snapshot, checksum, output, seconds
        case batchesReplayed = "batches_replayed"
        case mutationsReplayed = "mutations_replayed"
        case eventsRead = "events_read"
        case expectedChecksum = "expected_checksum"
        case dryRun = "dry_run"
    }
}

/// Point-in-time rebuild: the newest snapshot at or before the target, then replay of the committed
/// batches and compensations after it up to the target, into a new file; checked (integrity, foreign
/// keys, state checksum equal to the journal's) before it is renamed into place.
///
/// Reads the journal and snapshots only; never touches the live database, needs no lock.
public enum Rebuild {
    /// Rebuilds `home`'s database as of `target` into `output`.
    public static func run(
        home: DataHome, target: RebuildTarget, output: String, force: Bool = false, dryRun: Bool = false
    ) throws -> RebuildReport {
        let started = Date()
        let outputURL = URL(fileURLWithPath: output).standardizedFileURL.resolvingSymlinksInPath()
        let liveURL = URL(fileURLWithPath: home.databasePath).standardizedFileURL.resolvingSymlinksInPath()
        guard outputURL.path != liveURL.path else {
            throw UpdaterError(.failure, "refusing to rebuild into the live database \(home.databasePath)")
        }
        if FileManager.default.fileExists(atPath: output) && !force && !dryRun {
            throw UpdaterError(.failure, "\(output) exists; pass --force to replace it")
        }
        let journal = try Journal.open(
            JournalConfiguration(directory: home.journalDirectory), mode: .readOnly)
        let end = journal.nextPosition - 1
        let position = try resolve(target, in: journal)
        guard position >= 1, position <= end else {
            throw UpdaterError(.failure, "the target \(target) is outside the journal (positions 1…\(end))")
        }
        // A journal adopted from a predecessor database starts from its baseline snapshot.
        let genesis = try journal.entries(withKey: "genesis").first?.position
        let base = Snapshots.list(home: home).last {
            $0.position <= position && $0.position >= (genesis ?? 0)
        }
        if let genesis, base == nil {
            throw UpdaterError(
                .failure,
                "no snapshot at or before \(target) after the import at position \(genesis): the state before the "
                    + "baseline snapshot cannot be rebuilt")
        }
        var report = RebuildReport(
            target: target.description, position: position, snapshot: base?.name, batchesReplayed: [],
            mutationsReplayed: 0, eventsRead: 0,
            expectedChecksum: base?.stateChecksum ?? StateChecksum().description,
            checksum: nil, output: output, dryRun: dryRun, seconds: 0)
        if dryRun {
            let plan = try committedIntents(
                in: journal, after: base?.position ?? 0, through: position, report: &report)
            report.batchesReplayed = plan.map(\.batchID)
            report.mutationsReplayed = plan.reduce(0) { $0 + $1.mutations }
            if let last = plan.last { report.expectedChecksum = last.checksumAfter }
            report.seconds = Date().timeIntervalSince(started)
            return report
        }

        let temporary = output + ".rebuilding"
        for suffix in ["", "-wal", "-shm", "-journal"] {
            try? FileManager.default.removeItem(atPath: temporary + suffix)
        }
        defer {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                try? FileManager.default.removeItem(atPath: temporary + suffix)
            }
        }
        if let base { try Snapshots.restore(base, home: home, to: temporary) }
        let store = try Store(path: temporary)
        try store.queue.inDatabase { db in
            // A new file that is discarded on any failure: no need to sync every transaction.
            try db.execute(sql: "PRAGMA synchronous = OFF")
            try db.inTransaction(.immediate) {
                // One pass over the journal: each intent is held until its fate is known (its outcome
                // follows it at once, or the index says), then applied straight from its line. Memory
                // holds one line, however long the journal.
                let replayer = try IntentReplayer(db)
                var outcomes: [Int64: BatchResult] = [:]
                var pending: (intent: PlannedBatch, line: [UInt8], isValidUTF8: Bool)?
                func settle() throws {
                    guard let (intent, line, isValidUTF8) = pending else { return }
                    pending = nil
                    guard try isCommitted(intent.batchID, outcomes, in: journal) else { return }
                    let replayed: IntentReplayer.Replayed
                    do {
                        replayed = try replayer.replay(
                            line, batchID: intent.batchID, lineIsValidUTF8: isValidUTF8, db)
                    } catch is IntentReplayer.OtherBatch {
                        throw UpdaterError(
                            .verification,
                            "the batch intent at position \(intent.position) names another batch than "
                                + "\(intent.batchID)")
                    } catch let error as EventLineReader.Failure {
                        throw UpdaterError(
                            .verification,
                            "the batch intent at position \(intent.position) is unreadable: \(error)")
                    } catch let error as ConflictError {
                        throw UpdaterError(
                            .verification,
                            "batch \(intent.batchID) does not apply to the state before it: \(error). The "
                                + "journal and the snapshot disagree; run `hearings verify`.")
                    }
                    try db.execute(
                        sql:
                            "INSERT INTO journal_batches (batch_id, intent_position, committed_at, state_checksum) VALUES (?, ?, ?, ?)",
                        arguments: [
                            intent.batchID, Int64(intent.position), rfc3339Milliseconds(Date()),
                            replayed.checksumAfter,
                        ])
                    report.batchesReplayed.append(intent.batchID)
                    report.mutationsReplayed += replayed.mutations
                    report.expectedChecksum = replayed.checksumAfter
                }
                // The journal is read ahead on another thread, while this one applies.
                let events = JournalPrefetch(
                    directory: home.journalDirectory, from: (base?.position ?? 0) + 1, through: position)
                defer { events.stop() }
                while let event = try events.next() {
                    let entry = event.entry
                    report.eventsRead += 1
                    if let intent = try plannedBatch(entry) {
                        try settle()
                        pending = (intent, entry.line, event.isValidUTF8)
                    } else if let outcome = try outcome(entry) {
                        outcomes[outcome.batchID] = outcome.result
                        if outcome.batchID == pending?.intent.batchID { try settle() }
                    }
                }
                try settle()
                let nextBatch =
                    (try Int64.fetchOne(db, sql: "SELECT MAX(batch_id) FROM journal_batches") ?? 0) + 1
                try Checkpoint(
                    position: Int64(position), nextBatchID: nextBatch,
                    checksum: StateChecksum(hex: report.expectedChecksum) ?? StateChecksum()
                ).write(db)
                return .commit
            }
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        let (integrity, foreignKeys, checksum) = try store.queue.read { db in
            (
                try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer",
                try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").count,
                try StateChecksum.compute(db)
            )
        }
        try store.queue.close()
        report.checksum = checksum.description
        guard integrity == "ok", foreignKeys == 0, checksum.description == report.expectedChecksum else {
            throw UpdaterError(
                .verification,
                "the rebuilt database fails its checks (integrity: \(integrity); foreign-key violations: \(foreignKeys); "
                    + "state checksum \(checksum), the journal says \(report.expectedChecksum)); nothing was written to \(output)"
            )
        }
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: output + suffix) }
        let fileSystem = PosixFileSystem()
        let file = try fileSystem.openFile(temporary, writable: true)
        try file.sync()
        try file.close()
        try fileSystem.rename(temporary, to: output)
        try fileSystem.syncDirectory(parentDirectory(output))
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// The journal position a target stands for.
    static func resolve(_ target: RebuildTarget, in journal: Journal) throws -> UInt64 {
        switch target {
        case .position(let position):
            return position
        case .batch(let batchID):
            for entry in try journal.entries(withKey: JournalEvent.batchKey(batchID)) {
                let envelope = try entry.decode(EventEnvelope.self)
                if envelope.type == EventType.batchIntent, envelope.batchID == batchID {
                    guard try outcome(of: batchID, in: journal)?.result == .committed else {
                        throw UpdaterError(
                            .failure, "batch \(batchID) did not commit; there is no state after it")
                    }
                    return entry.position
                }
            }
            throw UpdaterError(.failure, "batch \(batchID) is not in the journal")
        case .time(let instant):
            // Times never decrease along the journal: binary search for the last event at or before.
            let stamp = rfc3339Milliseconds(instant)
            var low: UInt64 = 0
            var high = journal.nextPosition - 1
            while low < high {
                let middle = (low + high + 1) / 2
                guard let entry = try journal.entry(at: middle) else { break }
                if try entry.envelope().time <= stamp { low = middle } else { high = middle - 1 }
            }
            guard low > 0 else {
                throw UpdaterError(.failure, "the journal has no event at or before \(stamp)")
            }
            return low
        }
    }

    /// The final outcome of a batch, found through the index.
    static func outcome(of batchID: Int64, in journal: Journal) throws -> BatchOutcome? {
        var result: BatchOutcome?
        for entry in try journal.entries(withKey: JournalEvent.batchKey(batchID)) {
            let envelope = try entry.decode(EventEnvelope.self)
            if envelope.type == EventType.batchOutcome, envelope.batchID == batchID {
                result = try entry.decode(BatchOutcome.self)
            }
        }
        return result
    }

    /// A committed batch to replay: where its intent lies and what it says of itself.
    struct PlannedBatch {
        var position: UInt64
        var batchID: Int64
        var mutations: Int
        var checksumAfter: String
    }

    /// The intent `entry` holds, read for its head only (ids, checksum and, when `countingMutations`,
    /// the mutation count; otherwise reading stops at the mutations); nil for another event.
    static func plannedBatch(_ entry: JournalEntry, countingMutations: Bool = false) throws -> PlannedBatch? {
        // The names are sorted: the batch id and checksum come before the mutations.
        let head = try EventLineReader.head(entry.line, beforeMutations: !countingMutations)
        guard head.type == EventType.batchIntent else { return nil }
        guard let batchID = head.batchID, let checksum = head.checksumAfter else {
            throw UpdaterError(
                .verification, "the batch intent at position \(entry.position) lacks its batch id or checksum"
            )
        }
        return PlannedBatch(
            position: entry.position, batchID: batchID, mutations: head.mutationCount, checksumAfter: checksum
        )
    }

    /// The outcome `entry` holds; nil for another event.
    static func outcome(_ entry: JournalEntry) throws -> BatchOutcome? {
        guard try EventLineReader.head(entry.line, typeOnly: true).type == EventType.batchOutcome else {
            return nil
        }
        return try EventLineReader.outcome(entry.line)
    }

    /// Whether a batch committed, given the outcomes read so far: a committed outcome is final; anything
    /// else (none yet, failed) may have been settled later by recovery, beyond the target: the index
    /// says.
    static func isCommitted(_ batchID: Int64, _ outcomes: [Int64: BatchResult], in journal: Journal) throws
        -> Bool
    {
        if outcomes[batchID] == .committed { return true }
        return (try outcome(of: batchID, in: journal)?.result ?? outcomes[batchID]) == .committed
    }

    /// The intents between two positions whose batch committed (its final outcome says so, wherever
    /// that outcome lies: COMMIT follows the intent at once), in journal order.
    ///
    /// What a dry run reports: intents are read for their head only (ids, checksum, mutation count),
    /// never decoded, so the plan is small whatever the journal holds.
    static func committedIntents(
        in journal: Journal, after start: UInt64, through end: UInt64, report: inout RebuildReport
    ) throws -> [PlannedBatch] {
        var intents: [PlannedBatch] = []
        var outcomes: [Int64: BatchResult] = [:]
        var events = 0
        try journal.read(from: start + 1, through: end) { entry in
            events += 1
            if let intent = try plannedBatch(entry, countingMutations: true) {
                intents.append(intent)
            } else if let outcome = try outcome(entry) {
                outcomes[outcome.batchID] = outcome.result
            }
            return true
        }
        report.eventsRead = events
        return try intents.filter { try isCommitted($0.batchID, outcomes, in: journal) }
    }
}

func parentDirectory(_ path: String) -> String {
    let url = URL(fileURLWithPath: path).standardizedFileURL
    return url.deletingLastPathComponent().path
}
