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
        let folder = home.path + "/input"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let source = sampleFolder(day: 1) + "/house"
        let names = try FileManager.default.contentsOfDirectory(atPath: source).sorted().prefix(6)
        for name in names {
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: folder + "/" + name)
        }
        // Bad chamber, bad status, an empty title, a broken file, a duplicate event id.
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
        try FileManager.default.copyItem(
            atPath: source + "/" + names[3], toPath: folder + "/copy-of-\(names[3])")
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
}
