import FaultInjection
import Foundation
import GRDB
import Journal
import Store
import Testing

@testable import Updater

/// The inputs of a short history of daily runs from real sample documents: a base of `count` House
/// meetings of day 1, then five days that each retitle one meeting (the one before gets its title back), then a
/// day that rewrites every title — what a broken source or mapping would send.
private struct TitleHistory {
    let ordinaryDays: [String]
    let anomalousDay: String

    init(in folder: String, count: Int = 30) throws {
        let source = sampleFolder(day: 1) + "/house"
        let files = Array(try FileManager.default.contentsOfDirectory(atPath: source).sorted().prefix(count))
        var days = [
            try retitledFolder(from: source, files: files, retitled: [], suffix: "", at: folder + "/day-0")
        ]
        for day in 1...5 {
            days.append(
                try retitledFolder(
                    from: source, files: files, retitled: [files[day]], suffix: " (revised \(day))",
                    at: folder + "/day-\(day)"))
        }
        ordinaryDays = days
        anomalousDay = try retitledFolder(
            from: source, files: files, retitled: Set(files), suffix: " (rewritten)",
            at: folder + "/anomalous")
    }
}

/// Runs `hearings arguments…` with `environment` set and every other variable the command reads
/// cleared (the test decides them).
private func hearings(_ arguments: [String], environment: [String: String] = [:]) throws
    -> IngestCommandTests.Run
{
    try IngestCommandTests.run(arguments, environment: environment)
}

/// Every managed row and the state checksum recomputed from them: the database's canonical state.
private func canonicalState(_ home: DataHome) throws -> (rows: [String: [RowImage]], checksum: StateChecksum)
{
    let store = try Store(path: home.databasePath)
    return (try managedRows(store), try store.queue.read { db in try StateChecksum.compute(db) })
}

@Suite struct RunHealthCommandTests {
    @Test func anAnomalousRunIsRevertedAndTheJournalSaysWhy() throws {
        let home = try temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home.path) }
        let inputs = try TitleHistory(in: home.path + "/inputs")
        let common = ["ingest", "--home", home.path, "--batch-size", "10", "--format", "json"]
        var runIDs: [Int] = []
        for (day, folder) in inputs.ordinaryDays.enumerated() {
            let run = try hearings(
                common + ["--source", "dir:" + folder], environment: ["HEARINGS_ON_ANOMALY": "revert"])
            #expect(run.status == 0, "day \(day): \(run.stderr)")
            let metrics = try run.json()
            #expect((metrics["alerts"] as? [Any])?.isEmpty == true, "day \(day): \(run.stdout)")
            let changes = try #require(metrics["changes"] as? [String: Any])
            #expect(changes["titles_changed"] as? Int == (day == 0 ? 0 : day == 1 ? 1 : 2))
            runIDs.append(try #require(metrics["run_id"] as? Int))
        }
        let before = try canonicalState(home)

        // The environment asks for the revert: every title rewritten is a critical anomaly.
        let reverted = try hearings(
            common + ["--source", "dir:" + inputs.anomalousDay],
            environment: ["HEARINGS_ON_ANOMALY": "revert"])
        #expect(reverted.status == 6, "\(reverted.stderr)")
        let metrics = try reverted.json()
        let runID = try #require(metrics["run_id"] as? Int)
        #expect(metrics["anomaly_reverted"] as? Bool == true)
        let alerts = try #require(metrics["alerts"] as? [[String: Any]])
        let critical = alerts.filter { $0["critical"] as? Bool == true }
        #expect(critical.map { $0["name"] as? String } == ["anomaly.titles_changed"])
        #expect((critical.first?["value"] as? Double ?? 0) > 3.5)
        #expect(critical.first?["threshold"] as? Double == 3.5)
        #expect(
            (critical.first?["message"] as? String)?.contains("titles_changed 30 is far above the last 6")
                == true)
        let batchIDs = try #require(metrics["batch_ids"] as? [Int])
        #expect(batchIDs.count == 3)
        #expect(metrics["compensated_batch_ids"] as? [Int] == batchIDs.reversed())
        #expect(reverted.stderr.contains("run health alert: critical"), "\(reverted.stderr)")
        #expect(reverted.stderr.contains("run undone: critical anomaly"), "\(reverted.stderr)")

        // The database is exactly as before the run.
        let after = try canonicalState(home)
        #expect(after.rows == before.rows)
        #expect(after.checksum == before.checksum)
        #expect(metrics["state_checksum"] as? String == before.checksum.description)

        // The journal shows the run, the anomaly and the reversal, newest batch first.
        let anomaly = try #require(
            try events(home, type: EventType.anomaly).map { try $0.decode(RunAnomaly.self) }.first)
        #expect(anomaly.runID == Int64(runID))
        #expect(anomaly.action == "revert")
        #expect(anomaly.batchIDs == batchIDs.map(Int64.init))
        #expect(anomaly.alerts.contains { $0.name == "anomaly.titles_changed" && $0.critical })
        let compensations = try events(home, type: EventType.batchIntent).map {
            try $0.decode(BatchIntent.self)
        }
        .filter { $0.runID == Int64(runID) && $0.kind == .compensation }
        #expect(compensations.map(\.compensates) == batchIDs.reversed().map(Int64.init))
        #expect(compensations.allSatisfy { $0.reason == "anomaly: anomaly.titles_changed" })
        let finished = try events(home, type: EventType.runFinished).map { try $0.decode(RunFinished.self) }
        #expect(finished.first { $0.runID == Int64(runID) }?.status == "reverted")

        // `log` marks the run, in text and JSON.
        let log = try hearings(["log", "--home", home.path])
        #expect(log.status == 0)
        let runLine = try #require(log.stdout.split(separator: "\n").first { $0.hasPrefix("run \(runID) ") })
        #expect(runLine.contains("reverted"))
        #expect(runLine.contains("ALERTS"), "\(runLine)")
        #expect(runLine.contains("anomaly.titles_changed (critical)"), "\(runLine)")
        #expect(log.stdout.contains("compensation of batch \(batchIDs[2]) (anomaly: anomaly.titles_changed)"))
        let logJSON = try #require(
            try JSONSerialization.jsonObject(
                with: Data(try hearings(["log", "--home", home.path, "--format", "json"]).stdout.utf8))
                as? [String: Any])
        let runs = try #require(logJSON["runs"] as? [[String: Any]])
        let logged = try #require(runs.first { $0["run_id"] as? Int == runID })
        #expect(
            (logged["alerts"] as? [[String: Any]])?.contains {
                $0["name"] as? String == "anomaly.titles_changed"
            } == true)
        #expect(
            runs.filter { $0["run_id"] as? Int != runID }.allSatisfy {
                ($0["alerts"] as? [Any])?.isEmpty == true
            })

        // The flag wins over the environment: kept, the alert is loud and the exit status is 3. The
        // reverted run is not history, so the same input is still an anomaly.
        let kept = try hearings(
            common + ["--source", "dir:" + inputs.anomalousDay, "--on-anomaly", "keep"],
            environment: ["HEARINGS_ON_ANOMALY": "revert"])
        #expect(kept.status == 3, "\(kept.stderr)")
        let keptMetrics = try kept.json()
        #expect(keptMetrics["anomaly_reverted"] as? Bool == false)
        #expect(
            (keptMetrics["alerts"] as? [[String: Any]])?.contains {
                $0["name"] as? String == "anomaly.titles_changed" && $0["critical"] as? Bool == true
            } == true)
        #expect(kept.stderr.contains("run health alert: critical"))
        #expect(try canonicalState(home).rows != before.rows, "the run stays")
        let text = try hearings(["ingest", "--home", home.path, "--source", "dir:" + inputs.anomalousDay])
        #expect(text.status == 0, "nothing changes the third time: \(text.stdout)")

        let verify = try hearings(["verify", "--home", home.path])
        #expect(verify.status == 0, "\(verify.stdout)")
        // Bad values are usage errors.
        #expect(try hearings(common + ["--on-anomaly", "undo"]).status == 64)
        #expect(try hearings(common, environment: ["HEARINGS_ALERT_BATCH_FAILURE_RATE": "150%"]).status == 64)
    }

    @Test func thresholdsComeFromFlagsAndEnvironment() throws {
        let home = try temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home.path) }
        let folder = try meetingFolder(day: 1, chamber: "house", range: 0..<4, in: home, name: "one")
        // One item rejected for four meetings checked (25 %): an alert at 10 %, none at 30 %.
        let broken = folder + "/broken.json"
        try Data(#"{"committeeMeeting": {"eventId": "1", "chamber": "House"}}"#.utf8).write(
            to: URL(fileURLWithPath: broken))
        let base = ["ingest", "--home", home.path, "--source", "dir:" + folder, "--format", "json"]
        let quiet = try hearings(base, environment: ["HEARINGS_ALERT_REJECTED_RATE": "30%"])
        #expect(quiet.status == 3, "a rejected item is exit 3 anyway")
        #expect((try quiet.json()["alerts"] as? [Any])?.isEmpty == true, "\(quiet.stdout)")
        let loud = try hearings(
            base + ["--alert-rejected-rate", "0.1"], environment: ["HEARINGS_ALERT_REJECTED_RATE": "30%"])
        let alerts = try #require(try loud.json()["alerts"] as? [[String: Any]])
        #expect(alerts.map { $0["name"] as? String } == ["rejected_item_rate"])
        #expect(alerts.first?["value"] as? Double == 0.25, "the undecodable one of four items")
        #expect(alerts.first?["threshold"] as? Double == 0.1)
    }

    /// The process dies during and right after each journal I/O step of a run's reversal for an anomaly
    /// (from the `anomaly` event's write on); each crash image is recovered. Once the `anomaly` event is durable, recovery
    /// finishes the reversal: the database equals its state before the run.
    @Test func aCrashDuringTheAutomaticRevertIsCompletedByRecovery() throws {
        let home = try crashTestHome()
        let work = try crashTestHome().path
        defer {
            try? FileManager.default.removeItem(atPath: home.path)
            try? FileManager.default.removeItem(atPath: work)
        }
        // Twelve meetings in batches of four: three batches to undo, newest first.
        let inputs = try TitleHistory(in: work + "/inputs", count: 12)
        func options(_ folder: String) -> IngestOptions {
            var options = IngestOptions()
            options.source = .directory(folder)
            options.batchSize = 4
            options.health.onAnomaly = .revert
            return options
        }
        func ingest(
            _ folder: String, on fileSystem: any FileSystem, seam: ((Int64) throws -> Void)? = nil
        ) throws -> IngestMetrics {
            let session = try Session(
                home: home, command: "ingest", journalFileSystem: fileSystem, clock: crashTestClock)
            session.anomalyRevertFault = seam
            do {
                let metrics = try session.ingest(options(folder))
                try session.close()
                return metrics
            } catch {
                try? session.close()
                throw error
            }
        }
        let disk = SimulatedFileSystem()
        for folder in inputs.ordinaryDays { _ = try ingest(folder, on: disk) }
        let beforeRun = work + "/before"
        try snapshotDatabase(of: home, into: beforeRun)
        let before = try canonicalState(home)

        // The fault-free run, for its steps: those from the `anomaly` event on are the reversal's (the
        // crash harness covers the ingest's own steps).
        let probe = disk.crashImage(directoryChangesKept: true) { _ in .kept }
        var reversalStarts: Int?
        let faultFree = try ingest(inputs.anomalousDay, on: probe) { _ in
            if reversalStarts == nil { reversalStarts = probe.steps }
        }
        #expect(faultFree.anomalyReverted)
        #expect(try canonicalState(home).rows == before.rows)
        let steps = probe.steps
        // Two steps before the reversal: the `anomaly` event's write and fdatasync.
        let first = try #require(reversalStarts) - 2

        let atCrash = work + "/at-crash"
        var revertsCompleted = 0
        var crashesBeforeTheRevert = 0
        for moment in CrashMoment.allCases {
            for step in first..<steps {
                try restoreDatabase(of: home, from: beforeRun)
                let image = disk.crashImage(directoryChangesKept: true) { _ in .kept }
                if moment == .during { image.inject(.crash, atStep: step) }
                let fileSystem = CrashPointFileSystem(
                    base: image, crashAfterStep: moment == .after ? step : nil
                ) {
                    do {
                        try snapshotDatabase(of: home, into: atCrash)
                    } catch {
                        Issue.record("cannot snapshot the database: \(error)")
                    }
                }
                _ = try? ingest(inputs.anomalousDay, on: fileSystem)
                let context = "crash \(moment.rawValue) step \(step)"
                guard fileSystem.crashed else {
                    Issue.record("\(context): the run did not crash")
                    continue
                }
                var seen: [[String: [UInt8]]] = []
                for (name, fate) in crashFates.prefix(2) {
                    let recovered = image.crashImage(directoryChangesKept: true, fate: fate)
                    // Each distinct image once (without unsynced writes, both fates give the same).
                    let files = journalFiles(recovered, directory: home.journalDirectory)
                    if seen.contains(files) { continue }
                    seen.append(files)
                    try restoreDatabase(of: home, from: atCrash)
                    let session = try Session(
                        home: home, command: "recover", journalFileSystem: recovered, clock: crashTestClock)
                    let actions = session.recovery.actions
                    var anomalyJournaled = false
                    var status: String?
                    try session.journal.read { entry in
                        let type = try entry.envelope().type
                        if type == EventType.anomaly { anomalyJournaled = true }
                        if anomalyJournaled, type == EventType.runFinished {
                            status = try entry.decode(RunFinished.self).status
                        }
                        return true
                    }
                    let scratch = try session.store.queue.read { db in try StateChecksum.compute(db) }
                    #expect(scratch == session.checksum, "\(context), \(name): the checksum holds")
                    try session.close()
                    guard anomalyJournaled else {
                        crashesBeforeTheRevert += 1
                        continue
                    }
                    let state = try canonicalState(home)
                    #expect(state.rows == before.rows, "\(context), \(name): \(actions)")
                    #expect(state.checksum == before.checksum)
                    #expect(
                        status?.hasPrefix("reverted") == true,
                        "\(context), \(name): \(String(describing: status))")
                    if actions.contains(where: { $0.contains("anomaly revert completed") }) {
                        revertsCompleted += 1
                    }
                }
            }
        }
        print(
            "anomaly revert: steps \(first)..<\(steps), \(revertsCompleted) reversals completed by recovery, "
                + "\(crashesBeforeTheRevert) crash images without the anomaly event")
        #expect(revertsCompleted > 0)
        #expect(crashesBeforeTheRevert > 0)
    }
}
