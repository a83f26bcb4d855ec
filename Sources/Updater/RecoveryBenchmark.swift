import Foundation
import GRDB
import Journal
import Store

#if canImport(Glibc)
    import Glibc
#endif

/// The recovery benchmark: what opening a writing session costs (the run lock, the database, the
/// journal's open and tail check, and recovery) as the journal grows to a million events.
///
/// Builds a throwaway data home whose journal holds realistic runs (`run_started`, batch intents with
/// small whole-row images of committee rows and their index keys, outcomes, `run_finished`), appended
/// with the journal API directly, and a database that agrees with it: the rows, one marker per
/// committed batch, the checkpoint at the journal's end. At each size (10,000, 100,000, 1,000,000
/// events, up to `events`) it times `Session(home:command:)`: on a clean home (recovery reads nothing
/// past the checkpoint) and after an interrupted batch (an intent without outcome past the checkpoint,
/// which recovery resolves and journals). Recovery reads from the checkpoint, so both should be flat.
public enum RecoveryBenchmark {
    /// The timings at one journal size.
    public struct Measurement: Sendable {
        /// Events in the journal.
        public var events: UInt64
        /// Committed batches (marker rows) in the database.
        public var batches: Int
        /// Bytes of journal segments.
        public var journalBytes: UInt64
        /// Session open on a clean home: median of `repetitions`, milliseconds.
        public var cleanMedianMilliseconds: Double
        /// Session open on a clean home: the slowest of `repetitions`, milliseconds.
        public var cleanMaximumMilliseconds: Double
        /// Events recovery read on the clean open.
        public var cleanEventsRead: Int
        /// Session open with an interrupted batch to resolve: median of `interruptions`, milliseconds.
        public var interruptedMilliseconds: Double
        /// Events recovery read then.
        public var interruptedEventsRead: Int
        /// What recovery did then (the last time).
        public var interruptedActions: [String]
    }

    /// Clean opens timed at each size.
    static let repetitions = 15
    /// Interrupted batches resolved (and opens timed) at each size.
    static let interruptions = 5
    /// Batches per run.
    static let batchesPerRun = 10
    /// Committee rows the batches update.
    static let rowCount: Int64 = 200

    /// Runs the benchmark up to `events` journal events (default sizes 10k, 100k, 1M), prints a table
    /// and returns the measurements. The data home is a temporary folder, removed at the end.
    @discardableResult
    public static func run(events: Int) throws -> [Measurement] {
        let path =
            NSTemporaryDirectory() + "hearings-bench-recovery-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var builder = try Builder(home: DataHome(path: path))
        let sizes = [10_000, 100_000, 1_000_000].filter { $0 < events } + [events]
        var results: [Measurement] = []
        print(
            "recovery benchmark: Session open = run lock + database open + journal open (tail check) + recovery; "
                + "clean: median/max of \(repetitions); interrupted (an intent without outcome to resolve): "
                + "median of \(interruptions)")
        print("    events   batches  journal MB   clean ms (median / max)  read   interrupted ms  read")
        for size in sizes {
            let started = ContinuousClock.now
            try builder.grow(toEvents: UInt64(size))
            let built = ContinuousClock.now - started
            // The builder's unsynced writes (the index just rewritten) must not be flushed by the
            // timed opens' fsyncs: a real run finds the previous run's files long written back.
            sync()
            var measurement = try measure(builder)
            var times: [Double] = []
            for _ in 0..<interruptions {
                try builder.interrupt()
                sync()
                let interrupted = try timedOpen(builder.home)
                times.append(interrupted.milliseconds)
                measurement.interruptedEventsRead = interrupted.report.eventsRead
                measurement.interruptedActions = interrupted.report.actions
                try builder.adoptInterruption()
            }
            measurement.interruptedMilliseconds = times.sorted()[times.count / 2]
            results.append(measurement)
            print(
                String(
                    format: "%10llu %9d %11.1f %10.2f / %-10.2f %6d %12.2f %8d   (built in %.1f s)",
                    measurement.events, measurement.batches, Double(measurement.journalBytes) / 1e6,
                    measurement.cleanMedianMilliseconds, measurement.cleanMaximumMilliseconds,
                    measurement.cleanEventsRead, measurement.interruptedMilliseconds,
                    measurement.interruptedEventsRead, seconds(built)))
        }
        if let first = results.first, let last = results.last, results.count > 1 {
            print(
                String(
                    format: "clean open at %llu events / at %llu events: %.2f×; interrupted: %.2f×",
                    last.events, first.events, last.cleanMedianMilliseconds / first.cleanMedianMilliseconds,
                    last.interruptedMilliseconds / first.interruptedMilliseconds))
        }
        return results
    }

    private static func measure(_ builder: Builder) throws -> Measurement {
        var times: [Double] = []
        var eventsRead = 0
        for _ in 0..<repetitions {
            let open = try timedOpen(builder.home)
            times.append(open.milliseconds)
            eventsRead = max(eventsRead, open.report.eventsRead)
            if open.report.changedSomething {
                throw UpdaterError(
                    .failure, "benchmark: recovery acted on a clean home: \(open.report.actions)")
            }
        }
        times.sort()
        return Measurement(
            events: builder.events, batches: builder.committedBatches,
            journalBytes: try builder.journalBytes(),
            cleanMedianMilliseconds: times[times.count / 2], cleanMaximumMilliseconds: times[times.count - 1],
            cleanEventsRead: eventsRead, interruptedMilliseconds: 0, interruptedEventsRead: 0,
            interruptedActions: [])
    }

    /// Opens (and closes) a session, timing the open.
    private static func timedOpen(_ home: DataHome) throws -> (milliseconds: Double, report: RecoveryReport) {
        let started = ContinuousClock.now
        let session = try Session(home: home, command: "benchmark")
        let elapsed = ContinuousClock.now - started
        let report = session.recovery
        try session.close()
        return (seconds(elapsed) * 1000, report)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Writes the journal with the journal API and keeps the database in agreement with it.
    private struct Builder {
        let home: DataHome
        private(set) var events: UInt64 = 0
        private(set) var committedBatches = 0
        private var nextBatchID: Int64 = 1
        private var checksum = StateChecksum()
        /// The rows as the journal has them; `stored` as the database has them.
        private var rows: [Int64: RowImage] = [:]
        private var stored: [Int64: RowImage] = [:]
        private var markers: [(batch: Int64, position: Int64, checksum: String)] = []
        private var round = 0

        init(home: DataHome) throws {
            self.home = home
            try FileManager.default.createDirectory(atPath: home.path, withIntermediateDirectories: true)
            _ = try Store(path: home.databasePath)
        }

        func journalBytes() throws -> UInt64 {
            try FileManager.default.contentsOfDirectory(atPath: home.journalDirectory).filter {
                $0.hasSuffix(".lz4")
            }.reduce(0) {
                $0
                    + ((try FileManager.default.attributesOfItem(atPath: home.journalDirectory + "/" + $1)[
                        .size]
                        as? UInt64) ?? 0)
            }
        }

        /// Appends whole runs until the journal holds at least `target` events, then brings the
        /// database to agree: rows, markers, the checkpoint at the end.
        mutating func grow(toEvents target: UInt64) throws {
            let journal = try Journal.open(JournalConfiguration(directory: home.journalDirectory))
            while journal.nextPosition - 1 < target { try appendRun(journal) }
            events = journal.nextPosition - 1
            try journal.close()
            try syncDatabase(checkpoint: Int64(events))
        }

        /// Journals one more batch's intent, durably, without outcome, and leaves the database without
        /// its marker: a run killed after the intent's fdatasync, before COMMIT.
        mutating func interrupt() throws {
            let journal = try Journal.open(JournalConfiguration(directory: home.journalDirectory))
            let runID = Int64(journal.nextPosition)
            try journal.append([try runStarted(runID)])
            var intent = nextBatch()
            intent.runID = runID
            try journal.append([try intentEvent(intent)])
            try journal.close()
        }

        /// After recovery resolved the interruption: the batch id is used, the rows are unchanged.
        mutating func adoptInterruption() throws {
            let journal = try Journal.open(
                JournalConfiguration(directory: home.journalDirectory), mode: .readOnly)
            events = journal.nextPosition - 1
            nextBatchID += 1
            round += 1
        }

        private mutating func appendRun(_ journal: Journal) throws {
            let runID = Int64(journal.nextPosition)
            try journal.appendDeferred([try runStarted(runID)])
            for _ in 0..<RecoveryBenchmark.batchesPerRun {
                var intent = nextBatch()
                intent.runID = runID
                let positions = try journal.appendDeferred([try intentEvent(intent)])
                nextBatchID += 1
                round += 1
                checksum = checksum.applying(intent.mutations)
                for mutation in intent.mutations {
                    if case .integer(let id) = mutation.key["committee_id"] { rows[id] = mutation.after }
                }
                markers.append((intent.batchID, Int64(positions.upperBound), checksum.description))
                let outcome = BatchOutcome(
                    batchID: intent.batchID, runID: runID, result: .committed, reason: nil, recovered: false,
                    stateChecksum: checksum.description, durationMilliseconds: 3)
                try journal.appendDeferred([
                    try JournalEvent(
                        type: EventType.batchOutcome, fields: outcome,
                        keys: [JournalEvent.batchKey(outcome.batchID), JournalEvent.runKey(runID)])
                ])
            }
            try journal.appendDeferred([
                try JournalEvent(
                    type: EventType.runFinished,
                    fields: RunFinished(runID: runID, status: "ok", metrics: nil),
                    keys: [JournalEvent.runKey(runID)])
            ])
        }

        private func runStarted(_ runID: Int64) throws -> JournalEvent {
            try JournalEvent(
                type: EventType.runStarted,
                fields: RunStarted(
                    runID: runID, command: "ingest", source: "sample:1", congress: nil, lookbackDays: nil,
                    batchSize: 50, atomic: false),
                keys: [JournalEvent.runKey(runID), "source:sample:1"])
        }

        private func intentEvent(_ intent: BatchIntent) throws -> JournalEvent {
            var keys = [JournalEvent.batchKey(intent.batchID), JournalEvent.runKey(intent.runID)]
            for mutation in intent.mutations {
                keys.append(JournalEvent.rowKey(table: mutation.table, key: mutation.key))
            }
            return try JournalEvent(type: EventType.batchIntent, fields: intent, keys: keys)
        }

        /// The next batch: the first inserts every committee row, each later one renames two of them.
        private func nextBatch() -> BatchIntent {
            var mutations: [Mutation] = []
            let timestamp = "2025-10-02 06:\(String(format: "%02d", round % 60)):00"
            if rows.isEmpty {
                for id in 1...RecoveryBenchmark.rowCount {
                    mutations.append(
                        Mutation(
                            kind: .insert, table: Schema.committees, before: nil,
                            after: committee(id, name: "Committee \(id)", timestamp: timestamp)))
                }
            } else {
                for offset in Int64(0)..<2 {
                    let id = (Int64(round) * 2 + offset) % RecoveryBenchmark.rowCount + 1
                    guard let before = rows[id] else { continue }
                    var after = before
                    after["name"] = .text("Committee \(id), revision \(round)")
                    after["updated_at"] = .text(timestamp)
                    mutations.append(
                        Mutation(kind: .update, table: Schema.committees, before: before, after: after))
                }
            }
            return BatchIntent(
                batchID: nextBatchID, runID: 0, kind: .ingest, compensates: nil, reason: nil,
                items: mutations.map { "committee \($0.key["committee_id"])" }, mutations: mutations,
                checksumBefore: checksum.description, checksumAfter: checksum.applying(mutations).description)
        }

        private func committee(_ id: Int64, name: String, timestamp: String) -> RowImage {
            RowImage([
                "committee_id": .integer(id), "system_code": .text(String(format: "hsxx%02lld", id)),
                "name": .text(name), "chamber": "House", "type": "Standing", "parent_committee_id": nil,
                "is_current": 1, "url": nil, "congress": 119, "created_at": .text(timestamp),
                "updated_at": .text(timestamp),
            ])
        }

        /// Writes the rows that changed, the new markers and the checkpoint, in one transaction.
        private mutating func syncDatabase(checkpoint position: Int64) throws {
            let store = try Store(path: home.databasePath)
            var changes: [Mutation] = []
            for (id, row) in rows.sorted(by: { $0.key < $1.key }) where stored[id] != row {
                changes.append(
                    Mutation(
                        kind: stored[id] == nil ? .insert : .update, table: Schema.committees,
                        before: stored[id],
                        after: row))
            }
            let pending = markers
            let state = Checkpoint(position: position, nextBatchID: nextBatchID, checksum: checksum)
            try store.queue.write { db in
                try Store.apply(changes, db)
                let insert = try db.cachedStatement(
                    sql:
                        "INSERT INTO journal_batches (batch_id, intent_position, committed_at, state_checksum) VALUES (?, ?, ?, ?)"
                )
                for marker in pending {
                    try insert.execute(arguments: [
                        marker.batch, marker.position, "2025-10-02 06:00:00", marker.checksum,
                    ])
                }
                try state.write(db)
                let scratch = try StateChecksum.compute(db)
                if scratch != state.checksum {
                    throw UpdaterError(
                        .failure, "benchmark: the database's checksum \(scratch) is not \(state.checksum)")
                }
            }
            committedBatches += pending.count
            markers = []
            stored = rows
        }
    }
}
