import Foundation
import GRDB
import Journal
import Store
import Testing

@testable import Updater

/// A folder of meeting documents taken from the bundled sample, optionally edited.
func sampleFolder(day: Int) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Sources/Congress/Resources/sample/day-\(day)").path
}

func ingest(_ home: DataHome, _ configure: (inout IngestOptions) -> Void = { _ in }) throws -> IngestMetrics {
    let session = try Session(home: home, command: "ingest")
    defer { try? session.close() }
    var options = IngestOptions()
    configure(&options)
    return try session.ingest(options)
}

/// Makes the marker insert of batch `batchID` fail inside SQLite, as a full disk or an I/O error at
/// that point of the transaction would: the batch must roll back as a whole.
func failBatch(_ batchID: Int64, in home: DataHome) throws {
    let store = try Store(path: home.databasePath)
    try store.queue.write { db in
        try db.execute(
            sql: """
                CREATE TRIGGER injected_failure BEFORE INSERT ON journal_batches WHEN NEW.batch_id = \(batchID)
                BEGIN SELECT RAISE(ABORT, 'injected failure'); END
                """)
    }
}

/// Six real meetings of the sample under `home/input`, five of them made hostile: a bad chamber, a bad
/// status, an empty title, a copy (duplicate event id), plus a file that is not JSON.
func hostileFolder(in home: DataHome) throws -> (folder: String, ids: [String]) {
    let folder = home.path + "/input"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let source = sampleFolder(day: 1) + "/house"
    let names = try FileManager.default.contentsOfDirectory(atPath: source).sorted().prefix(6)
    for name in names {
        try FileManager.default.copyItem(atPath: source + "/" + name, toPath: folder + "/" + name)
    }
    func edit(_ name: String, _ change: (inout [String: Any]) -> Void) throws {
        let path = folder + "/" + name
        var document =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
            as? [String: Any] ?? [:]
        var meeting = document["committeeMeeting"] as? [String: Any] ?? [:]
        change(&meeting)
        document["committeeMeeting"] = meeting
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: path))
    }
    let ids = names.map { String($0.dropLast(5)) }
    try edit(names[0]) { $0["chamber"] = "Hosue" }
    try edit(names[1]) { $0["meetingStatus"] = "Sort of happening" }
    try edit(names[2]) { $0["title"] = "" }
    try Data("{not json".utf8).write(to: URL(fileURLWithPath: folder + "/broken.json"))
    try FileManager.default.copyItem(atPath: source + "/" + names[3], toPath: folder + "/copy-of-\(names[3])")
    return (folder, ids)
}

@Suite struct IngestTests {
    @Test func sampleDayOneThenDayTwoThenNothing() throws {
        let home = try temporaryHome()
        let first = try ingest(home)
        #expect(first.source == "sample:1")
        #expect(first.hearingsAdded == 300)
        #expect(first.batchProcessing.batchesFailed == 0)
        #expect(first.validationIssues.isEmpty)
        let second = try ingest(home)
        #expect(second.source == "sample:2")
        #expect(second.hearingsAdded == 40)
        #expect(second.hearingsUpdated == 60)
        #expect(second.hearingsUnchanged == 20)
        let third = try ingest(home)
        #expect(third.mutations == 0, "a re-run of unchanged input changes nothing")
        #expect(third.batchProcessing.batchCount == 0)
        let store = try Store(path: home.databasePath)
        let (scratch, statuses) = try store.queue.read { db in
            (
                try StateChecksum.compute(db),
                try String.fetchAll(db, sql: "SELECT DISTINCT status FROM hearings ORDER BY 1")
            )
        }
        #expect(scratch.description == third.stateChecksum)
        #expect(statuses == ["Canceled", "Postponed", "Rescheduled", "Scheduled"])
        let (integrity, foreignKeys) = try store.queue.read { db in
            (
                try String.fetchOne(db, sql: "PRAGMA integrity_check"),
                try Row.fetchAll(db, sql: "PRAGMA foreign_key_check")
            )
        }
        #expect(integrity == "ok")
        #expect(foreignKeys.isEmpty)
    }

    @Test func invalidItemsAreRejectedAloneWithItemAndField() throws {
        let home = try temporaryHome()
        let (folder, ids) = try hostileFolder(in: home)
        let metrics = try ingest(home) { $0.source = .directory(folder) }
        let issues = Set(metrics.validationIssues.map { "\($0.item) \($0.field)" })
        #expect(issues.contains("\(ids[0]) chamber"), "\(issues)")
        #expect(issues.contains("\(ids[1]) meetingStatus"), "\(issues)")
        #expect(issues.contains("\(ids[2]) title"), "\(issues)")
        #expect(issues.contains("broken.json (document)"), "\(issues)")
        #expect(issues.contains("\(ids[3]) eventId"), "\(issues)")
        #expect(metrics.hearingsAdded == 3, "the valid meetings of the same batch are applied")
        let rejected = try events(home, type: EventType.rejected).map { try $0.decode(Rejected.self) }
        #expect(rejected.count == metrics.validationIssues.count, "every rejection is journaled")
    }

    @Test func rejectionsOfABatchThatFailsAfterItsIntentAreJournaledOnce() throws {
        // A normal run of the hostile input tells which batch carries the rejections; in a fresh home
        // that batch fails at its marker, after its intent and rejections are journaled.
        let probe = try temporaryHome()
        let (probeFolder, _) = try hostileFolder(in: probe)
        let normal = try ingest(probe) { $0.source = .directory(probeFolder) }
        let carrier = try #require(
            try events(probe, type: EventType.rejected).map { try $0.decode(Rejected.self) }.first?.batchID)
        let home = try temporaryHome()
        let (folder, _) = try hostileFolder(in: home)
        try failBatch(carrier, in: home)
        let metrics = try ingest(home) { $0.source = .directory(folder) }
        #expect(metrics.batchProcessing.batchesFailed == 1)
        let rejected = try events(home, type: EventType.rejected).map { try $0.decode(Rejected.self) }
        #expect(rejected.count == normal.validationIssues.count, "each rejection journaled once")
        #expect(rejected.allSatisfy { $0.batchID == carrier }, "\(rejected.map(\.batchID))")
    }

    @Test func nestedFoldersAreReadAndSymbolicLinksReportedNotFollowed() throws {
        let home = try temporaryHome()
        let folder = home.path + "/input"
        let outside = home.path + "/outside"
        let manager = FileManager.default
        try manager.createDirectory(atPath: folder + "/a/b", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let source = sampleFolder(day: 1) + "/house"
        let names = try manager.contentsOfDirectory(atPath: source).sorted().prefix(3)
        try manager.copyItem(atPath: source + "/" + names[0], toPath: folder + "/" + names[0])
        try manager.copyItem(atPath: source + "/" + names[1], toPath: folder + "/a/b/" + names[1])
        try manager.copyItem(atPath: source + "/" + names[2], toPath: outside + "/" + names[2])
        try manager.createSymbolicLink(
            atPath: folder + "/a/link.json", withDestinationPath: outside + "/" + names[2])
        try manager.createSymbolicLink(atPath: folder + "/linked-folder", withDestinationPath: outside)
        let metrics = try ingest(home) { $0.source = .directory(folder) }
        #expect(metrics.hearingsAdded == 2, "the two real files, one of them two folders down")
        let issues = metrics.validationIssues.map { "\($0.item): \($0.problem)" }.sorted()
        #expect(
            issues == [
                "a/link.json: a symbolic link, not followed", "linked-folder: a symbolic link, not followed",
            ],
            "\(issues)")
    }

    @Test func documentsChangedOrRemovedBetweenTheTwoReadsAreRejected() throws {
        let home = try temporaryHome()
        let folder = home.path + "/input"
        let manager = FileManager.default
        try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let source = sampleFolder(day: 1) + "/house"
        let names = Array(try manager.contentsOfDirectory(atPath: source).sorted().prefix(3))
        for name in names { try manager.copyItem(atPath: source + "/" + name, toPath: folder + "/" + name) }
        let ids = names.map { String($0.dropLast(5)) }
        let session = try Session(home: home, command: "ingest")
        defer { try? session.close() }
        var options = IngestOptions()
        options.source = .directory(folder)
        // After the first read (the run has its summaries), one file is made to hold another meeting
        // and one is removed.
        let metrics = try session.ingest(options) { event in
            guard case .started = event else { return }
            let path = folder + "/" + names[0]
            if let data = manager.contents(atPath: path),
                let text = String(data: data, encoding: .utf8)
            {
                try? Data(text.replacingOccurrences(of: "\"\(ids[0])\"", with: "\"999999999\"").utf8).write(
                    to: URL(fileURLWithPath: path))
            }
            try? manager.removeItem(atPath: folder + "/" + names[1])
        }
        #expect(metrics.hearingsAdded == 1)
        let issues = metrics.validationIssues.map { "\($0.item) \($0.field): \($0.problem)" }.sorted()
        #expect(issues.count == 2, "\(issues)")
        #expect(
            issues.contains { $0.hasPrefix("\(ids[0]) eventId:") && $0.contains("changed during the run") },
            "\(issues)")
        #expect(issues.contains { $0.hasPrefix("\(ids[1]) (document): cannot read the file") }, "\(issues)")
    }

    @Test func failedBatchDoesNotStopTheRun() throws {
        let home = try temporaryHome()
        try failBatch(3, in: home)
        let metrics = try ingest(home) { $0.batchSize = 100 }
        #expect(metrics.batchProcessing.batchesFailed == 1)
        #expect(metrics.batchProcessing.batchesSucceeded == 3)
        #expect(metrics.batchProcessing.batchErrors.first?.contains("injected failure") == true)
        #expect(metrics.hearingsAdded == 200)
        let store = try Store(path: home.databasePath)
        let count = try store.queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hearings") }
        #expect(count == 200, "the failed batch left nothing behind")
        let outcomes = try events(home, type: EventType.batchOutcome).map { try $0.decode(BatchOutcome.self) }
        #expect(outcomes.filter { $0.result == .failed }.map(\.batchID) == [3])
    }

    @Test func atomicRunUndoesEverythingItCommitted() throws {
        let home = try temporaryHome()
        _ = try ingest(home)  // day 1 applied normally
        let before = try managedRows(try Store(path: home.databasePath))
        try failBatch(10, in: home)  // the third batch of day 2 (committees are unchanged: no batch)
        let metrics = try ingest(home) {
            $0.source = .sample(day: 2)
            $0.batchSize = 40
            $0.atomic = true
        }
        #expect(metrics.batchProcessing.batchesFailed == 1)
        #expect(metrics.compensatedBatchIDs == [9, 8])
        #expect(
            try managedRows(try Store(path: home.databasePath)) == before,
            "the database ends as before the run")
        let finished = try #require(try events(home, type: EventType.runFinished).last).decode(
            RunFinished.self)
        #expect(finished.status == "aborted")
    }

    @Test func lookbackFiltersByUpdateDate() throws {
        let home = try temporaryHome()
        let metrics = try ingest(home) { $0.lookbackDays = 1 }
        #expect(metrics.hearingsChecked == 0, "every sample meeting was updated in 2025")
    }

    // MARK: Item failures and batch failures

    /// Day 1 of the sample in a fresh home with `fault` installed; batch 1 is the committee batch, the
    /// meeting batches (50 meetings each) are 2 to 7.
    private func ingestDayOne(
        _ home: DataHome, fault: @escaping (Int64, Int) throws -> Void,
        _ configure: (inout IngestOptions) -> Void = { _ in }
    ) throws -> IngestMetrics {
        let session = try Session(home: home, command: "ingest")
        defer { try? session.close() }
        session.mutationFault = fault
        var options = IngestOptions()
        configure(&options)
        return try session.ingest(options)
    }

    @Test func ioClassFailureAtTheKthMutationFailsTheWholeBatch() throws {
        let home = try temporaryHome()
        var reached: [Int64: Int] = [:]
        let metrics = try ingestDayOne(home) { batchID, mutation in
            reached[batchID, default: 0] = max(reached[batchID, default: 0], mutation)
            if batchID == 2 && mutation == 7 {
                throw DatabaseError(resultCode: .SQLITE_FULL, message: "database or disk is full")
            }
        }
        #expect(reached[2] == 7, "the batch stopped at the failing mutation")
        #expect(metrics.batchProcessing.batchesFailed == 1)
        #expect(metrics.batchProcessing.batchesSucceeded == 6)
        #expect(metrics.validationIssues.isEmpty, "no meeting is blamed for a batch failure")
        #expect(metrics.hearingsAdded == 250)
        let entry = try #require(metrics.batches.first { $0.batchID == 2 })
        #expect(entry.outcome == "failed")
        #expect(entry.items == 50)
        #expect(entry.reason?.contains("database or disk is full") == true, "\(entry.reason ?? "")")
        #expect(metrics.batches.filter { $0.outcome == "committed" }.map(\.batchID) == [1, 3, 4, 5, 6, 7])

        let store = try Store(path: home.databasePath)
        let (hearings, markers) = try store.queue.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hearings"),
                try Int64.fetchAll(db, sql: "SELECT batch_id FROM journal_batches ORDER BY 1")
            )
        }
        #expect(hearings == 250, "batch 2 left nothing behind")
        #expect(markers == [1, 3, 4, 5, 6, 7])
        let intents = try events(home, type: EventType.batchIntent).map { try $0.decode(BatchIntent.self) }
        #expect(
            !intents.contains { $0.batchID == 2 }, "the failed batch never reached the journal as an intent")
        let outcome = try #require(
            try events(home, type: EventType.batchOutcome).map { try $0.decode(BatchOutcome.self) }
                .first { $0.batchID == 2 })
        #expect(outcome.result == .failed)
        #expect(outcome.reason?.contains("database or disk is full") == true)

        // The next run converges: the 50 meetings of batch 2 arrive, nothing else changes.
        let again = try ingest(home) { $0.source = .sample(day: 1) }
        #expect(again.hearingsAdded == 50)
        #expect(again.hearingsUnchanged == 250)
        let scratch = try store.queue.read { db in try StateChecksum.compute(db) }
        #expect(scratch.description == again.stateChecksum)
    }

    @Test func constraintClassFailureRejectsOnlyThatMeeting() throws {
        let home = try temporaryHome()
        let metrics = try ingestDayOne(home) { batchID, mutation in
            if batchID == 3 && mutation == 1 {
                throw DatabaseError(
                    resultCode: .SQLITE_CONSTRAINT, message: "UNIQUE constraint failed: hearings.event_id")
            }
        }
        #expect(metrics.batchProcessing.batchesFailed == 0)
        #expect(metrics.hearingsAdded == 299)
        let issue = try #require(metrics.validationIssues.first)
        #expect(metrics.validationIssues.count == 1)
        #expect(issue.field == "(rows)")
        #expect(issue.problem.contains("UNIQUE constraint failed"))
        let entry = try #require(metrics.batches.first { $0.batchID == 3 })
        #expect(entry.outcome == "committed")
        #expect(entry.items == 50)
        let store = try Store(path: home.databasePath)
        let present = try store.queue.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM hearings WHERE event_id = ?", arguments: [issue.item])
        }
        #expect(present == 0, "the rejected meeting left nothing behind")
        let rejected = try events(home, type: EventType.rejected).map { try $0.decode(Rejected.self) }
        #expect(rejected.map(\.item) == [issue.item])
        #expect(rejected.first?.batchID == 3)
    }

    @Test func realFullDatabaseFailsBatchesWholeAndTheNextRunConverges() throws {
        let home = try temporaryHome()
        let session = try Session(home: home, command: "ingest")
        // A real SQLITE_FULL: the connection may not grow the database past a few hundred pages.
        try session.store.queue.inDatabase { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages + 150)")
        }
        let metrics = try session.ingest(IngestOptions())
        try session.close()
        #expect(metrics.batchProcessing.batchesFailed > 0)
        #expect(metrics.batchProcessing.batchesSucceeded > 1, "some meeting batches fit")
        let failed = metrics.batches.filter { $0.outcome == "failed" }
        #expect(failed.allSatisfy { $0.reason?.contains("full") == true }, "\(failed)")
        #expect(metrics.validationIssues.isEmpty, "a full database is not blamed on a meeting")

        // Every batch is wholly present or wholly absent.
        let intents = try events(home, type: EventType.batchIntent).map { try $0.decode(BatchIntent.self) }
        let store = try Store(path: home.databasePath)
        let eventIDs = Set(
            try store.queue.read { db in try String.fetchAll(db, sql: "SELECT event_id FROM hearings") })
        for entry in metrics.batches where entry.batchID > 1 {
            let intent = intents.first { $0.batchID == entry.batchID }
            if entry.outcome == "committed" {
                let items = try #require(intent).items
                #expect(items.allSatisfy { eventIDs.contains($0) })
            } else if let intent {
                // Failed after its intent was written (the marker did not fit): still wholly absent.
                #expect(intent.items.allSatisfy { !eventIDs.contains($0) })
            }
        }
        #expect(eventIDs.count == metrics.hearingsAdded)

        // With room again (a new connection has no page limit), a re-run brings in the rest.
        let again = try ingest(home) { $0.source = .sample(day: 1) }
        #expect(again.batchProcessing.batchesFailed == 0)
        #expect(again.hearingsAdded == 300 - metrics.hearingsAdded)
        let (count, integrity, scratch) = try store.queue.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hearings"),
                try String.fetchOne(db, sql: "PRAGMA integrity_check"),
                try StateChecksum.compute(db)
            )
        }
        #expect(count == 300)
        #expect(integrity == "ok")
        #expect(scratch.description == again.stateChecksum)
    }

    @Test func atomicRunIsUndoneAfterAnIOClassFailure() throws {
        let home = try temporaryHome()
        _ = try ingest(home)  // day 1 applied normally
        let before = try managedRows(try Store(path: home.databasePath))
        let session = try Session(home: home, command: "ingest")
        let first = session.nextBatchID
        session.mutationFault = { batchID, mutation in
            if batchID == first + 1 && mutation == 3 {
                throw DatabaseError(resultCode: .SQLITE_IOERR, message: "disk I/O error")
            }
        }
        var options = IngestOptions()
        options.source = .sample(day: 2)
        options.batchSize = 40
        options.atomic = true
        let metrics = try session.ingest(options)
        try session.close()
        #expect(metrics.batchProcessing.batchesFailed == 1)
        #expect(metrics.compensatedBatchIDs == [first])
        #expect(metrics.batches.last?.compensates == first)
        #expect(metrics.batches.first { $0.batchID == first + 1 }?.reason?.contains("disk I/O error") == true)
        #expect(
            try managedRows(try Store(path: home.databasePath)) == before,
            "the database ends as before the run")
    }

    @Test func metricsListEveryBatchWithSnakeCaseKeys() throws {
        let home = try temporaryHome()
        let metrics = try ingest(home) { $0.batchSize = 120 }
        #expect(metrics.batches.map(\.batchID) == [1, 2, 3, 4])
        #expect(metrics.batches.map(\.items) == [214, 120, 120, 60])
        #expect(metrics.batches.map(\.mutations).reduce(0, +) == metrics.mutations)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(metrics)) as? [String: Any]
        let batches = try #require(json?["batches"] as? [[String: Any]])
        #expect(
            Set(batches[0].keys)
                == ["batch_id", "items", "mutations", "outcome", "duration_ms", "reason", "compensates"])
        #expect(batches[0]["reason"] is NSNull)
        // Metrics journaled before `batches` existed still decode.
        var older = try #require(json)
        older.removeValue(forKey: "batches")
        let decoded = try JSONDecoder().decode(
            IngestMetrics.self, from: JSONSerialization.data(withJSONObject: older))
        #expect(decoded.batches.isEmpty)
        #expect(decoded.hearingsAdded == 300)
    }

}
