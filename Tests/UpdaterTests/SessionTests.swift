import Foundation
import GRDB
import Journal
import Store
import Testing

@testable import Updater

func temporaryHome() throws -> DataHome {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
        "updater-tests-\(UUID().uuidString)"
    ).path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return DataHome(path: path)
}

func committee(_ id: Int64, _ code: String, name: String = "Committee") -> RowImage {
    RowImage([
        "committee_id": .integer(id), "system_code": .text(code), "name": .text(name), "chamber": "House",
        "type": "Standing", "parent_committee_id": nil, "is_current": 1, "url": nil, "congress": 119,
        "created_at": "2025-10-01 20:06:23", "updated_at": "2025-10-01 20:06:23",
    ])
}

/// Applies `mutations` in the open transaction, as a batch's prepare step does.
func stage(_ mutations: [Mutation], _ db: Database) throws -> Session.PreparedBatch {
    try Store.apply(mutations, db)
    return Session.PreparedBatch(mutations: mutations)
}

func insert(_ row: RowImage) -> Mutation {
    Mutation(kind: .insert, table: Schema.committees, before: nil, after: row)
}

func managedRows(_ store: Store) throws -> [String: [RowImage]] {
    try store.queue.read { db in
        var result: [String: [RowImage]] = [:]
        for table in Schema.managedTables { result[table.name] = try Store.allRows(in: table, db) }
        return result
    }
}

func events(_ home: DataHome, type: String) throws -> [JournalEntry] {
    let journal = try Journal.open(JournalConfiguration(directory: home.journalDirectory), mode: .readOnly)
    var result: [JournalEntry] = []
    try journal.read { entry in
        if try entry.envelope().type == type { result.append(entry) }
        return true
    }
    return result
}

func run(_ session: Session, atomic: Bool = false) throws -> Int64 {
    try session.startRun(
        RunStarted(
            runID: 0, command: "test", source: nil, congress: nil, lookbackDays: nil, batchSize: nil,
            atomic: atomic))
}

@Suite struct SessionTests {
    @Test func committedBatchWritesIntentMarkerCheckpointAndOutcome() throws {
        let home = try temporaryHome()
        let session = try Session(home: home, command: "test")
        let runID = try run(session)
        let report = try session.commitBatch(runID: runID, items: ["hsgo00"]) { db in
            try stage([insert(committee(1, "hsgo00"))], db)
        }
        #expect(report.result == .committed)
        #expect(report.batchID == 1)
        try session.finishRun(RunFinished(runID: runID, status: "ok", metrics: nil))
        let scratch = try session.store.queue.read { db in try StateChecksum.compute(db) }
        #expect(scratch == session.checksum)
        try session.close()

        let intent = try #require(try events(home, type: EventType.batchIntent).first).decode(
            BatchIntent.self)
        #expect(intent.mutations.count == 1)
        #expect(intent.checksumAfter == scratch.description)
        let outcome = try #require(try events(home, type: EventType.batchOutcome).first).decode(
            BatchOutcome.self)
        #expect(outcome.result == .committed)
        let store = try Store(path: home.databasePath)
        let marker = try store.queue.read { db in
            try Int64.fetchOne(db, sql: "SELECT batch_id FROM journal_batches")
        }
        #expect(marker == 1)
    }

    @Test func failedBatchChangesNothingAndTheRunGoesOn() throws {
        let home = try temporaryHome()
        let session = try Session(home: home, command: "test")
        let runID = try run(session)
        var bad = committee(2, "hsgo01")
        bad["chamber"] = "Nowhere"
        let failed = try session.commitBatch(runID: runID, items: ["a", "b"]) { db in
            try stage([insert(committee(1, "hsgo00")), insert(bad)], db)
        }
        #expect(failed.result == .failed)
        #expect(failed.reason?.contains("CHECK constraint") == true)
        #expect(try managedRows(session.store)["committees"]?.isEmpty == true)
        let next = try session.commitBatch(runID: runID, items: ["a"]) { db in
            try stage([insert(committee(1, "hsgo00"))], db)
        }
        #expect(next.result == .committed)
        #expect(next.batchID == failed.batchID + 1)
        try session.close()
        let outcomes = try events(home, type: EventType.batchOutcome).map { try $0.decode(BatchOutcome.self) }
        #expect(outcomes.map(\.result) == [.failed, .committed])
    }

    @Test func compensationRestoresRowsAndConflictsChangeNothing() throws {
        let home = try temporaryHome()
        let session = try Session(home: home, command: "test")
        let runID = try run(session)
        _ = try session.commitBatch(runID: runID, items: ["x"]) { db in
            try stage([insert(committee(1, "hsgo00"))], db)
        }
        let before = try managedRows(session.store)
        let batch = try session.commitBatch(runID: runID, items: ["y"]) { db in
            let current = try #require(
                try Store.row(in: Schema.committees, key: RowImage(["committee_id": 1]), db))
            var renamed = current
            renamed["name"] = "Renamed"
            return try stage(
                [
                    Mutation(kind: .update, table: Schema.committees, before: current, after: renamed),
                    insert(committee(2, "hsgo01")),
                ], db)
        }
        // A later batch touches the same row: undoing batch 2 must refuse and change nothing.
        let later = try session.commitBatch(runID: runID, items: ["z"]) { db in
            let current = try #require(
                try Store.row(in: Schema.committees, key: RowImage(["committee_id": 1]), db))
            var renamed = current
            renamed["name"] = "Renamed again"
            return try stage(
                [Mutation(kind: .update, table: Schema.committees, before: current, after: renamed)], db)
        }
        let snapshot = try managedRows(session.store)
        do {
            _ = try session.compensate(batch: batch.batchID, runID: runID, reason: "revert")
            Issue.record("conflicting compensation was applied")
        } catch let error as UpdaterError {
            #expect(error.kind == .conflict)
            #expect(
                error.message.contains(
                    "committees[committee_id=1].name: expected \"Renamed\", found \"Renamed again\""))
        }
        #expect(try managedRows(session.store) == snapshot)
        _ = try session.compensate(batch: later.batchID, runID: runID, reason: "revert")
        _ = try session.compensate(batch: batch.batchID, runID: runID, reason: "revert")
        #expect(try managedRows(session.store) == before)
        let scratch = try session.store.queue.read { db in try StateChecksum.compute(db) }
        #expect(scratch == session.checksum)
        try session.close()
    }

    @Test func secondWriterIsRefusedNamingTheHolder() throws {
        let home = try temporaryHome()
        let first = try Session(home: home, command: "ingest")
        do {
            _ = try Session(home: home, command: "revert")
            Issue.record("a second writer got the lock")
        } catch let error as UpdaterError {
            #expect(error.kind == .locked)
            #expect(error.message.contains("pid \(getpid()) (ingest"))
        }
        try first.close()
        let second = try Session(home: home, command: "revert")
        try second.close()
    }
}

@Suite struct RecoveryTests {
    @Test func intentWithoutOutcomeOrMarkerIsAborted() throws {
        let home = try temporaryHome()
        let session = try Session(home: home, command: "test")
        let runID = try run(session)
        // The process dies after the intent is durable and before COMMIT: journal the intent only.
        let intent = BatchIntent(
            batchID: 1, runID: runID, kind: .ingest, compensates: nil, reason: nil, items: ["x"],
            mutations: [insert(committee(1, "hsgo00"))], checksumBefore: "0000000000000000",
            checksumAfter: "0000000000000001")
        try session.journal.append([
            try JournalEvent(type: EventType.batchIntent, fields: intent, keys: ["batch:1"])
        ])
        try session.close()

        let recovered = try Session(home: home, command: "recover")
        #expect(recovered.recovery.actions == ["batch 1: aborted (recovered)"])
        #expect(recovered.nextBatchID == 2)
        try recovered.close()
        let again = try Session(home: home, command: "recover")
        #expect(again.recovery.actions.isEmpty, "recovery is idempotent")
        try again.close()
        let outcome = try #require(try events(home, type: EventType.batchOutcome).last).decode(
            BatchOutcome.self)
        #expect(outcome.result == .aborted)
        #expect(outcome.recovered)
    }

    @Test func intentWithMarkerButNoOutcomeIsCommitted() throws {
        let home = try temporaryHome()
        let session = try Session(home: home, command: "test")
        let runID = try run(session)
        let mutations = [insert(committee(1, "hsgo00"))]
        let after = StateChecksum().applying(mutations)
        let intent = BatchIntent(
            batchID: 1, runID: runID, kind: .ingest, compensates: nil, reason: nil, items: ["x"],
            mutations: mutations,
            checksumBefore: StateChecksum().description, checksumAfter: after.description)
        let position = try session.journal.append([
            try JournalEvent(type: EventType.batchIntent, fields: intent, keys: ["batch:1"])
        ])
        // COMMIT happened; the process died before the outcome reached the journal.
        try session.store.queue.write { db in
            try Store.apply(mutations, db)
            try db.execute(
                sql: "INSERT INTO journal_batches VALUES (1, ?, '2025-10-02 00:00:00', ?)",
                arguments: [Int64(position.lowerBound), after.description])
        }
        try session.close()
        let recovered = try Session(home: home, command: "recover")
        #expect(recovered.recovery.actions == ["batch 1: committed (recovered)"])
        #expect(recovered.checksum == after)
        try recovered.close()
    }

    @Test func databaseBehindTheJournalIsRedone() throws {
        let home = try temporaryHome()
        let session = try Session(home: home, command: "test")
        let runID = try run(session)
        _ = try session.commitBatch(runID: runID, items: ["a"]) { db in
            try stage([insert(committee(1, "hsgo00"))], db)
        }
        try session.finishRun(RunFinished(runID: runID, status: "ok", metrics: nil))
        try session.close()
        // An older copy of the database: taken now, put back after two more batches.
        let copy = home.path + "/older.sqlite"
        try Store(path: home.databasePath).queue.backup(to: try DatabaseQueue(path: copy))
        let second = try Session(home: home, command: "test")
        let run2 = try run(second)
        _ = try second.commitBatch(runID: run2, items: ["b"]) { db in
            try stage([insert(committee(2, "hsgo01"))], db)
        }
        _ = try second.commitBatch(runID: run2, items: ["c"]) { db in
            try stage([insert(committee(3, "hsgo02"))], db)
        }
        try second.finishRun(RunFinished(runID: run2, status: "ok", metrics: nil))
        let expected = try managedRows(second.store)
        try second.close()
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: home.databasePath + suffix)
        }
        try FileManager.default.moveItem(atPath: copy, toPath: home.databasePath)

        let recovered = try Session(home: home, command: "recover")
        #expect(recovered.recovery.actions.count == 2)
        #expect(recovered.recovery.actions.allSatisfy { $0.contains("redone") })
        #expect(try managedRows(recovered.store) == expected)
        try recovered.close()
    }

    @Test func databaseAheadOfTheJournalIsRefused() throws {
        let home = try temporaryHome()
        let session = try Session(home: home, command: "test")
        let runID = try run(session)
        _ = try session.commitBatch(runID: runID, items: ["a"]) { db in
            try stage([insert(committee(1, "hsgo00"))], db)
        }
        try session.close()
        try FileManager.default.removeItem(atPath: home.journalDirectory)
        do {
            _ = try Session(home: home, command: "recover")
            Issue.record("a database ahead of its journal was accepted")
        } catch let error as UpdaterError {
            #expect(error.kind == .inconsistent)
            #expect(error.message.contains("hearings rebuild"))
        }
        #expect(try managedRows(try Store(path: home.databasePath))["committees"]?.count == 1)
    }

    @Test func interruptedAtomicRunIsCompensatedNewestFirst() throws {
        let home = try temporaryHome()
        let session = try Session(home: home, command: "test")
        let setup = try run(session)
        _ = try session.commitBatch(runID: setup, items: ["a"]) { db in
            try stage([insert(committee(1, "hsgo00"))], db)
        }
        try session.finishRun(RunFinished(runID: setup, status: "ok", metrics: nil))
        let before = try managedRows(session.store)
        let atomic = try run(session, atomic: true)
        _ = try session.commitBatch(runID: atomic, items: ["b"]) { db in
            try stage([insert(committee(2, "hsgo01"))], db)
        }
        _ = try session.commitBatch(runID: atomic, items: ["c"]) { db in
            let current = try #require(
                try Store.row(in: Schema.committees, key: RowImage(["committee_id": 2]), db))
            var changed = current
            changed["name"] = "Changed"
            return try stage(
                [Mutation(kind: .update, table: Schema.committees, before: current, after: changed)], db)
        }
        // The process dies here: no run_finished.
        try session.close()
        let recovered = try Session(home: home, command: "recover")
        #expect(recovered.recovery.actions.count == 2)
        #expect(recovered.recovery.actions[0].hasPrefix("batch 3: compensated"))
        #expect(recovered.recovery.actions[1].hasPrefix("batch 2: compensated"))
        #expect(try managedRows(recovered.store) == before)
        try recovered.close()
        let again = try Session(home: home, command: "recover")
        #expect(again.recovery.actions.isEmpty)
        try again.close()
    }
}
