import Foundation
import GRDB
import Journal
import Store
import Testing

@testable import Updater

/// A clock that advances one millisecond per reading, from a fixed instant, so that every journal
/// record has its own time and rebuild-by-time can aim exactly.
final class SteppingClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now = Date(timeIntervalSince1970: 1_760_335_200)
    func read() -> Date {
        lock.withLock {
            now = now.addingTimeInterval(0.001)
            return now
        }
    }
}

/// A folder holding some of the sample's meetings of one day (and no committee list).
func meetingFolder(day: Int, chamber: String, range: Range<Int>, in home: DataHome, name: String) throws
    -> String
{
    let folder = home.path + "/input-\(name)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let source = sampleFolder(day: day) + "/" + chamber
    let names = try FileManager.default.contentsOfDirectory(atPath: source).sorted()
    for file in names[range] {
        try FileManager.default.copyItem(atPath: source + "/" + file, toPath: folder + "/" + file)
    }
    return folder
}

/// Every managed row, for comparing database states exactly.
func dump(path: String) throws -> [String: [RowImage]] {
    try managedRows(try Store(path: path))
}

@Suite(.serialized) struct SnapshotRebuildTests {
    /// A history with several days, a snapshot, a revert, a failed batch and an atomic-run abort; the
    /// state after each batch is captured, and a rebuild to each batch equals it exactly.
    @Test func rebuildToEveryBatchEqualsTheStateCapturedThen() throws {
        let home = try temporaryHome()
        let clock = SteppingClock()
        var captured: [(batch: Int64, rows: [String: [RowImage]], time: Date)] = []
        func session() throws -> Session {
            try Session(home: home, command: "test", clock: { clock.read() })
        }
        func run(_ source: IngestOptions.Source, batchSize: Int = 100, atomic: Bool = false) throws {
            let current = try session()
            var options = IngestOptions()
            options.source = source
            options.batchSize = batchSize
            options.atomic = atomic
            let metrics = try current.ingest(options)
            try current.close()
            if let last = metrics.batchIDs.last, metrics.batchProcessing.batchesFailed == 0 {
                captured.append((last, try dump(path: home.databasePath), Date()))
            }
        }
        let committees = home.path + "/input-committees"
        try FileManager.default.createDirectory(atPath: committees, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: sampleFolder(day: 1) + "/../committees.json", toPath: committees + "/committees.json")
        try run(.directory(committees))
        try run(.directory(try meetingFolder(day: 1, chamber: "house", range: 0..<12, in: home, name: "a")))
        try run(.directory(try meetingFolder(day: 1, chamber: "senate", range: 0..<12, in: home, name: "b")))
        let snapshotSession = try session()
        _ = try snapshotSession.snapshot(reason: "manual")
        try snapshotSession.close()
        try run(.directory(try meetingFolder(day: 1, chamber: "house", range: 12..<30, in: home, name: "c")))
        // A revert of batch 3, journaled as its own batch.
        let reverting = try session()
        let revertRun = try reverting.startRun(
            RunStarted(
                runID: 0, command: "revert", source: nil, congress: nil, lookbackDays: nil, batchSize: nil,
                atomic: false))
        let revert = try reverting.compensate(batch: 3, runID: revertRun, reason: "revert")
        try reverting.finishRun(RunFinished(runID: revertRun, status: "ok", metrics: nil))
        try reverting.close()
        captured.append((revert.batchID, try dump(path: home.databasePath), Date()))
        // A failed batch, then an atomic run whose second batch fails and is undone.
        try failBatch(revert.batchID + 1, in: home)
        try run(.directory(try meetingFolder(day: 2, chamber: "house", range: 0..<10, in: home, name: "d")))
        try run(
            .directory(try meetingFolder(day: 2, chamber: "house", range: 10..<30, in: home, name: "e")),
            batchSize: 5)
        let store = try Store(path: home.databasePath)
        try store.queue.write { db in try db.execute(sql: "DROP TRIGGER injected_failure") }
        try failBatch(revert.batchID + 8, in: home)
        try run(
            .directory(try meetingFolder(day: 2, chamber: "senate", range: 0..<20, in: home, name: "f")),
            batchSize: 5, atomic: true)
        try store.queue.write { db in try db.execute(sql: "DROP TRIGGER injected_failure") }
        let head = try dump(path: home.databasePath)

        #expect(captured.count >= 6)
        for (batch, rows, _) in captured {
            let output = home.path + "/rebuilt-\(batch).sqlite"
            let report = try Rebuild.run(home: home, target: .batch(batch), output: output)
            #expect(report.checksum == report.expectedChecksum)
            #expect(try dump(path: output) == rows, "rebuild to batch \(batch)")
        }
        // The head, across the failed batch and the atomic-run abort, equals the live database.
        let journal = try Journal.open(
            JournalConfiguration(directory: home.journalDirectory), mode: .readOnly)
        let headReport = try Rebuild.run(
            home: home, target: .position(journal.nextPosition - 1), output: home.path + "/head.sqlite")
        #expect(headReport.snapshot != nil, "the head starts from the snapshot")
        #expect(try dump(path: home.path + "/head.sqlite") == head)
        // A dry run (two passes over the journal) plans what the rebuild (one pass) replays.
        let headPlan = try Rebuild.run(
            home: home, target: .position(journal.nextPosition - 1), output: home.path + "/head-plan.sqlite",
            dryRun: true)
        #expect(headPlan.batchesReplayed == headReport.batchesReplayed)
        #expect(headPlan.mutationsReplayed == headReport.mutationsReplayed)
        #expect(headPlan.expectedChecksum == headReport.expectedChecksum)
        #expect(headPlan.eventsRead == headReport.eventsRead)

        // By time: the instant of a batch's intent includes it; one millisecond before excludes it.
        let intentEntry = try #require(
            try journal.entries(withKey: "batch:4").first { try $0.envelope().type == EventType.batchIntent })
        let instant = try #require(parse(try intentEntry.envelope().time))
        _ = try Rebuild.run(home: home, target: .time(instant), output: home.path + "/at.sqlite")
        _ = try Rebuild.run(
            home: home, target: .time(instant.addingTimeInterval(-0.001)),
            output: home.path + "/before.sqlite")
        #expect(try dump(path: home.path + "/at.sqlite") == captured.first { $0.batch == 4 }?.rows)
        #expect(try dump(path: home.path + "/before.sqlite") == captured.first { $0.batch == 3 }?.rows)

        // Refusals: an existing file without --force, the live database.
        #expect(throws: UpdaterError.self) {
            try Rebuild.run(home: home, target: .batch(2), output: home.path + "/at.sqlite")
        }
        #expect(throws: UpdaterError.self) {
            try Rebuild.run(home: home, target: .batch(2), output: home.databasePath, force: true)
        }
        let plan = try Rebuild.run(
            home: home, target: .batch(2), output: home.path + "/plan.sqlite", dryRun: true)
        #expect(plan.batchesReplayed == [1, 2])
        #expect(!FileManager.default.fileExists(atPath: home.path + "/plan.sqlite"))
    }

    @Test func verifyFindsCorruptSnapshotMissingSegmentAndOutOfBandEdit() throws {
        let home = try temporaryHome()
        let first = try Session(home: home, command: "test", segmentSizeLimit: 32 << 10)
        var options = IngestOptions()
        options.source = .sample(day: 1)
        options.batchSize = 20
        _ = try first.ingest(options)
        let manifest = try first.snapshot(reason: "manual")
        try first.close()
        #expect(try Verifier.run(home: home, drill: true).ok)

        // An out-of-band UPDATE.
        let store = try Store(path: home.databasePath)
        try store.queue.write { db in
            try db.execute(sql: "UPDATE hearings SET title = 'edited' WHERE hearing_id = 3")
        }
        let edited = try Verifier.run(home: home)
        #expect(!edited.ok)
        #expect(edited.checks.contains { $0.name == "state checksum" && !$0.ok })
        try store.queue.write { db in try db.execute(sql: "UPDATE hearings SET title = title || '' WHERE 0") }

        // A corrupted snapshot.
        let snapshotPath = home.snapshotsDirectory + "/" + manifest.fileName
        var bytes = try #require(FileManager.default.contents(atPath: snapshotPath))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: snapshotPath))
        #expect(
            try Verifier.run(home: home).checks.contains { $0.name == "snapshot \(manifest.name)" && !$0.ok })

        // A missing segment.
        let segments = try FileManager.default.contentsOfDirectory(atPath: home.journalDirectory).filter {
            $0.hasSuffix(".lz4")
        }.sorted()
        #expect(segments.count > 2)
        try FileManager.default.removeItem(atPath: home.journalDirectory + "/" + segments[1])
        #expect(try Verifier.run(home: home).checks.contains { $0.name == "journal" && !$0.ok })
    }

    @Test func retentionKeepsTheNewestAndTheOneTheWindowNeeds() {
        func manifest(_ day: Int, reason: String = "policy") -> SnapshotManifest {
            SnapshotManifest(
                name: "s\(day)", position: UInt64(day * 10), lastBatchID: 0,
                time: rfc3339Milliseconds(Date(timeIntervalSince1970: Double(day) * 86_400)),
                stateChecksum: "",
                rowCounts: [:], schemaVersion: 1, fileSHA256: "", databaseSHA256: "", compressedBytes: 0,
                databaseBytes: 0,
                reason: reason)
        }
        let now = Date(timeIntervalSince1970: 20 * 86_400)
        let all = [manifest(1, reason: "baseline")] + (2...19).map { manifest($0) }
        let expired = Snapshots.expired(all, now: now, keepDays: 7).map(\.name)
        // Window starts at day 13: s13 is the base a rebuild to day 13.5 needs; s1 is the baseline.
        #expect(expired == (2...12).map { "s\($0)" })
        #expect(Snapshots.expired([manifest(2)], now: now, keepDays: 7).isEmpty, "never the newest")
    }

    @Test func importLegacyAdoptsThePredecessorDatabase() throws {
        // A real subset of the predecessor's database (tools/make_legacy_fixture.py), flaws included.
        let legacy = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/legacy-subset.sqlite").path
        try #require(FileManager.default.fileExists(atPath: legacy))
        let source = try DatabaseQueue(path: legacy)
        let (hearings, witnesses, twoPrimaries) = try source.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hearings") ?? 0,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM witnesses") ?? 0,
                try Int.fetchOne(
                    db,
                    sql:
                        "SELECT COUNT(*) FROM (SELECT hearing_id FROM hearing_committees WHERE is_primary = 1 "
                        + "GROUP BY hearing_id HAVING COUNT(*) > 1)") ?? 0
            )
        }
        try source.close()
        let home = try temporaryHome()
        let session = try Session(home: home, command: "import-legacy")
        let report = try session.importLegacy(path: legacy)
        #expect(report.rowCounts["hearings"] == hearings)
        #expect(report.rowCounts["witnesses"] == witnesses)
        let kinds = Dictionary(uniqueKeysWithValues: report.flaws.map { ($0.kind, $0.count) })
        #expect(kinds["meetings with an empty title"] == 20)
        #expect(kinds["meetings with two or more primary committees"] == twoPrimaries)
        #expect(twoPrimaries >= 40)
        var options = IngestOptions()
        options.source = .sample(day: 1)
        let metrics = try session.ingest(options)
        #expect(metrics.batchProcessing.batchesFailed == 0)
        try session.close()
        let verification = try Verifier.run(home: home, drill: true)
        #expect(verification.ok, "\(verification.checks.filter { !$0.ok })")
        // A second import into the same home is refused.
        let again = try Session(home: home, command: "import-legacy")
        #expect(throws: UpdaterError.self) { try again.importLegacy(path: legacy) }
        try again.close()
    }
}

private func parse(_ time: String) -> Date? {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.date(from: time)
}
