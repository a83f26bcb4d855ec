import Foundation
import GRDB
import Journal
import Store
import Testing

@testable import Updater

/// End-to-end tests of `hearings ingest`: they run the built executable in a temporary data home.
@Suite struct IngestCommandTests {
    // MARK: Running the binary

    /// What one run of the executable did.
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String

        /// Standard output as a JSON object (the metrics document of `--format json`).
        func json() throws -> [String: Any] {
            let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
            return try #require(object as? [String: Any], "not a JSON object: \(stdout)")
        }
    }

    /// The `hearings` executable `swift build --build-tests` puts next to the test bundle. Missing is a
    /// failure, not a skip: these tests are the command's contract.
    static func executable() throws -> URL {
        var folders = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        if let first = CommandLine.arguments.first {
            folders.append(URL(fileURLWithPath: first).deletingLastPathComponent())
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            folders.append(bundle.bundleURL.deletingLastPathComponent())
        }
        let found = folders.map { $0.appendingPathComponent("hearings") }.first {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0.path, isDirectory: &isDirectory)
                && !isDirectory.boolValue && FileManager.default.isExecutableFile(atPath: $0.path)
        }
        return try #require(
            found,
            "the hearings executable is not next to the tests (looked in \(folders.map(\.path))); build it with `swift build --build-tests`"
        )
    }

    /// Runs `hearings arguments…` (see `run(_:environment:)`).
    func hearings(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Run {
        try Self.run(arguments, environment: extra)
    }

    /// Runs `hearings arguments…` with every variable the command reads cleared (`HEARINGS_*` and the
    /// predecessor's and the API's names: flags and the test decide) and `extra` set, its output
    /// captured in files (a pipe could fill up and stall the child).
    static func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HEARINGS_") }
        for name in [
            "BATCH_PROCESSING_SIZE", "ENABLE_BATCH_PROCESSING", "COLUMNS", "CONGRESS_API_KEY", "API_KEY",
            "CONGRESS_API_BASE_URL", "CONGRESS_API_CONCURRENCY", "CONGRESS_API_TIMEOUT",
        ] {
            environment.removeValue(forKey: name)
        }
        environment.merge(extra) { $1 }
        process.environment = environment
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "hearings-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("stdout")
        let err = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out)
        let errHandle = try FileHandle(forWritingTo: err)
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        return Run(
            status: process.terminationStatus,
            stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }

    // MARK: Looking at the data home

    /// Row counts of every managed table.
    func counts(_ home: DataHome) throws -> [String: Int] {
        let store = try Store(path: home.databasePath)
        return try store.queue.read { db in
            var result: [String: Int] = [:]
            for table in Schema.managedTables {
                result[table.name] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.name)") ?? 0
            }
            return result
        }
    }

    /// The sample's meeting documents of `day`, by event id.
    func sampleMeetings(day: Int) throws -> [String: [String: Any]] {
        let folder = sampleFolder(day: day)
        var result: [String: [String: Any]] = [:]
        let enumerator = try #require(FileManager.default.enumerator(atPath: folder))
        for case let path as String in enumerator where path.hasSuffix(".json") {
            let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + path))
            let document = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            let meeting = try #require(document?["committeeMeeting"] as? [String: Any])
            let id = try #require(meeting["eventId"] as? String)
            result[id] = meeting
        }
        return result
    }

    /// The journaled intents of run `runID`.
    func intents(_ home: DataHome, run runID: Int) throws -> [BatchIntent] {
        try events(home, type: EventType.batchIntent).map { try $0.decode(BatchIntent.self) }
            .filter { $0.runID == Int64(runID) }
    }

    /// Today's daily log file name (UTC), as the command names it.
    func dailyLogName(_ date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd"
        return "daily_update_\(formatter.string(from: date)).log"
    }

    // MARK: Tests

    @Test func firstRunFromEmptyAddsEverything() throws {
        let home = try temporaryHome()
        let started = Date()
        let run = try hearings(["ingest", "--home", home.path, "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let metrics = try run.json()
        #expect(metrics["hearings_added"] as? Int == 300)
        #expect(metrics["source"] as? String == "sample:1")
        let batches = try #require(metrics["batches"] as? [[String: Any]])
        #expect(batches.count == 7, "the committee batch and six batches of 50 meetings")
        #expect(batches.map { $0["outcome"] as? String } == Array(repeating: "committed", count: 7))
        #expect(batches.dropFirst().map { $0["items"] as? Int } == Array(repeating: 50, count: 6))
        for batch in batches {
            #expect(
                Set(batch.keys).isSuperset(of: [
                    "batch_id", "items", "mutations", "outcome", "duration_ms", "reason",
                ]))
            #expect(batch["reason"] is NSNull)
        }
        #expect(
            batches.compactMap { $0["mutations"] as? Int }.reduce(0, +) == metrics["mutations"] as? Int)
        let processing = try #require(metrics["batch_processing"] as? [String: Any])
        #expect(processing["batches_succeeded"] as? Int == 7)
        #expect(try counts(home)["hearings"] == 300)

        // Logs: on standard error (not a terminal here: no progress line, no escape sequences) and in
        // the daily file under the data home.
        #expect(run.stderr.contains("batch committed"))
        #expect(!run.stderr.contains("\r") && !run.stderr.contains("\u{1B}"))
        let logs = try FileManager.default.contentsOfDirectory(atPath: home.path + "/logs")
        #expect(logs.count == 1)
        let name = try #require(logs.first)
        #expect(name == dailyLogName(started) || name == dailyLogName())
        let log = try String(contentsOfFile: home.path + "/logs/" + name, encoding: .utf8)
        #expect(log.contains("ingest run finished"))
        #expect(log.contains("batch committed"))
        #expect(log.contains("run_id=\(metrics["run_id"] as? Int ?? -1)"))
        #expect(!log.contains("?format=") && !log.lowercased().contains("api_key"), "no URL query in logs")
        let attributes = try FileManager.default.attributesOfItem(atPath: home.path + "/logs/" + name)
        #expect((attributes[.posixPermissions] as? Int ?? 0) & 0o077 == 0, "the log file is private")

        // A second run the same day appends to the same file.
        _ = try hearings(["ingest", "--home", home.path, "--source", "sample:1"])
        let appended = try String(contentsOfFile: home.path + "/logs/" + name, encoding: .utf8)
        #expect(appended.hasPrefix(log))
        #expect(appended.count > log.count)
    }

    @Test func secondDayAppliesExactlyTheExpectedUpdatesAndDeletions() throws {
        let home = try temporaryHome()
        #expect(try hearings(["ingest", "--home", home.path]).status == 0)
        let store = try Store(path: home.databasePath)
        let hearingRows = { () throws -> [String: RowImage] in
            try store.queue.read { db in
                var result: [String: RowImage] = [:]
                for row in try Store.allRows(in: Schema.hearings, db) {
                    if case .text(let id) = row["event_id"] { result[id] = row }
                }
                return result
            }
        }
        let before = try counts(home)
        let hearingsBefore = try hearingRows()

        let run = try hearings(["ingest", "--home", home.path, "--source", "sample:2", "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let metrics = try run.json()
        #expect(metrics["hearings_added"] as? Int == 40)
        #expect(metrics["hearings_updated"] as? Int == 60)
        #expect(metrics["hearings_unchanged"] as? Int == 20)
        let runID = try #require(metrics["run_id"] as? Int)
        let after = try counts(home)
        let hearingsAfter = try hearingRows()

        // What the journal says this run did, table by table, accounts for every row count change.
        var inserted: [String: Int] = [:]
        var deleted: [String: Int] = [:]
        for intent in try intents(home, run: runID) {
            for mutation in intent.mutations {
                switch mutation.kind {
                case .insert: inserted[mutation.table, default: 0] += 1
                case .delete: deleted[mutation.table, default: 0] += 1
                case .update: break
                }
            }
        }
        for table in Schema.managedTables.map(\.name) {
            #expect(
                (after[table] ?? 0) - (before[table] ?? 0)
                    == (inserted[table] ?? 0) - (deleted[table] ?? 0), "\(table)")
        }

        // And the deletions are exactly the children that day 2 no longer lists.
        let day1 = try sampleMeetings(day: 1)
        let day2 = try sampleMeetings(day: 2)
        func keys(_ meeting: [String: Any]?, _ field: String, _ key: (([String: Any]) -> String?)) -> Set<
            String
        > {
            var list = meeting?[field] as? [[String: Any]] ?? []
            if let wrapped = meeting?[field] as? [String: Any],
                let items = wrapped["item"] as? [[String: Any]]
            {
                list = items
            }
            return Set(list.compactMap(key))
        }
        var expectedDeleted: [String: Int] = [:]
        let children: [(table: String, field: String, key: ([String: Any]) -> String?)] = [
            ("witness_appearances", "witnesses", { "\($0["name"] ?? "")|\($0["organization"] ?? "")" }),
            ("witness_documents", "witnessDocuments", { $0["url"] as? String }),
            ("supporting_documents", "meetingDocuments", { $0["url"] as? String }),
            ("hearing_transcripts", "hearingTranscript", { ($0["jacketNumber"]).map { "\($0)" } }),
            ("hearing_committees", "committees", { $0["systemCode"] as? String }),
        ]
        for (id, meeting) in day2 where day1[id] != nil {
            for child in children {
                expectedDeleted[child.table, default: 0] +=
                    keys(day1[id], child.field, child.key).subtracting(keys(meeting, child.field, child.key))
                    .count
            }
        }
        #expect((expectedDeleted["witness_appearances"] ?? 0) > 0, "the sample removes witnesses on day 2")
        for child in children {
            #expect(deleted[child.table] ?? 0 == expectedDeleted[child.table] ?? 0, "\(child.table)")
        }
        #expect(deleted["hearings"] == nil, "no meeting is deleted")

        // Every day-2 meeting holds its day-2 title and status; every other meeting is untouched.
        for (id, meeting) in day2 {
            let row = try #require(hearingsAfter[id], "\(id) missing")
            #expect(row["title"] == .text(meeting["title"] as? String ?? ""), "\(id)")
            #expect(row["status"] == .text(meeting["meetingStatus"] as? String ?? ""), "\(id)")
        }
        for (id, row) in hearingsBefore where day2[id] == nil {
            #expect(hearingsAfter[id] == row, "\(id) changed without being in day 2")
        }
        #expect(hearingsAfter.count == 340)
    }

    @Test func reRunIsANoOpAndSaysSo() throws {
        let home = try temporaryHome()
        #expect(try hearings(["ingest", "--home", home.path]).status == 0)
        #expect(try hearings(["ingest", "--home", home.path]).status == 0)
        let before = try managedRows(try Store(path: home.databasePath))
        let text = try hearings(["ingest", "--home", home.path])
        #expect(text.status == 0)
        #expect(
            text.stdout.contains("nothing to change: the data home already has this input"), "\(text.stdout)")
        let json = try hearings(["ingest", "--home", home.path, "--format", "json"])
        #expect(json.status == 0)
        let metrics = try json.json()
        #expect(metrics["mutations"] as? Int == 0)
        #expect((metrics["batches"] as? [Any])?.isEmpty == true)
        #expect((metrics["batch_ids"] as? [Any])?.isEmpty == true)
        #expect(try managedRows(try Store(path: home.databasePath)) == before)
    }

    @Test func concurrentRunIsRefusedNamingTheHolder() throws {
        let home = try temporaryHome()
        #expect(try hearings(["ingest", "--home", home.path]).status == 0)
        let journalFiles = {
            try FileManager.default.contentsOfDirectory(atPath: home.journalDirectory).sorted().map {
                name -> String in
                let size = try FileManager.default.attributesOfItem(
                    atPath: home.journalDirectory + "/" + name)[
                        .size]
                return "\(name) \(size ?? 0)"
            }
        }
        let holder = try Session(home: home, command: "test-holder")
        let before = try managedRows(holder.store)
        let journalBefore = try journalFiles()
        let run = try hearings(["ingest", "--home", home.path, "--source", "sample:2"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("another hearings process is writing to"), "\(run.stderr)")
        #expect(run.stderr.contains("pid \(getpid())"), "\(run.stderr)")
        #expect(try managedRows(holder.store) == before, "nothing was changed")
        #expect(try journalFiles() == journalBefore, "nothing was journaled")
        try holder.close()
        let log = try String(contentsOfFile: home.path + "/logs/" + dailyLogName(), encoding: .utf8)
        #expect(log.contains("ingest run stopped"))
    }

    @Test func hostileItemsAreRejectedAloneAndTheOthersApplied() throws {
        let home = try temporaryHome()
        let folder = home.path + "/incoming"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let source = sampleFolder(day: 1) + "/house"
        let names = try FileManager.default.contentsOfDirectory(atPath: source).sorted().prefix(8)
        for name in names {
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: folder + "/" + name)
        }
        func edit(_ name: String, _ change: (inout [String: Any]) -> Void) throws {
            let url = URL(fileURLWithPath: folder + "/" + name)
            var document =
                try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
            var meeting = document["committeeMeeting"] as? [String: Any] ?? [:]
            change(&meeting)
            document["committeeMeeting"] = meeting
            try JSONSerialization.data(withJSONObject: document).write(to: url)
        }
        let ids = names.map { String($0.dropLast(5)) }
        try edit(names[0]) { $0["title"] = String(repeating: "Oversight of everything. ", count: 2_000) }
        try edit(names[1]) {
            $0["title"] =
                "Hearing\u{07}\u{1B}[2J\u{1B}]0;pwned\u{07} on https://evil.example/?api_key=SECRET123"
        }
        try edit(names[2]) {
            $0["witnesses"] = "everyone"
            $0["committees"] = 42
        }
        // A broken document whose file name carries escape sequences: the name is the item reported.
        let hostileName = "evil\u{1B}[31m\u{07}.json"
        try Data("{\"committeeMeeting\": 42".utf8).write(to: URL(fileURLWithPath: folder + "/" + hostileName))
        let run = try hearings([
            "ingest", "--home", home.path, "--source", "dir:\(folder)", "--format", "json",
        ])
        #expect(run.status == 3, "\(run.stderr)")
        let metrics = try run.json()
        #expect(metrics["hearings_added"] as? Int == 5, "the other meetings are applied")
        let issues = try #require(metrics["validation_issues"] as? [[String: Any]])
        #expect(
            Set(issues.compactMap { $0["item"] as? String }) == Set(ids.prefix(3)).union([hostileName]),
            "\(issues)")
        #expect((metrics["batch_processing"] as? [String: Any])?["batches_failed"] as? Int == 0)
        let present = Set(
            try Store(path: home.databasePath).queue.read { db in
                try String.fetchAll(db, sql: "SELECT event_id FROM hearings")
            })
        #expect(present == Set(ids.dropFirst(3)))

        // The rejection reasons reach the logs escaped, without the URL's query string.
        let log = try String(contentsOfFile: home.path + "/logs/" + dailyLogName(), encoding: .utf8)
        #expect(log.contains("item rejected"))
        #expect(!log.contains("\u{1B}") && !log.contains("\u{07}"), "control characters are escaped")
        #expect(log.contains("evil\\u{1b}[31m\\u{7}.json"), "the hostile name is logged, escaped")
        #expect(!run.stderr.contains("\u{1B}"))
        let text = try hearings(["ingest", "--home", home.path, "--source", "dir:\(folder)"])
        #expect(text.status == 3)
        #expect(!text.stdout.contains("\u{1B}"), "the summary escapes it too")
        #expect(!log.contains("SECRET123") && !run.stderr.contains("SECRET123"))
    }

    @Test func helpMentionsEveryOption() throws {
        let run = try hearings(["ingest", "--help"])
        #expect(run.status == 0)
        for option in [
            "--home", "--source", "--congress", "--lookback-days", "--batch-size", "--atomic-run", "--format",
            "BATCH_PROCESSING_SIZE", "ENABLE_BATCH_PROCESSING", "daily_update_YYYYMMDD.log",
        ] {
            #expect(run.stdout.contains(option), "\(option) is not in the help")
        }
    }

    @Test func usageErrorsExit64() throws {
        let home = try temporaryHome()
        let zero = try hearings(["ingest", "--home", home.path, "--batch-size", "0"])
        #expect(zero.status == 64)
        #expect(zero.stderr.contains("--batch-size"))
        let source = try hearings(["ingest", "--home", home.path, "--source", "ftp:somewhere"])
        #expect(source.status == 64)
        #expect(source.stderr.contains("--source"))
        #expect(!FileManager.default.fileExists(atPath: home.databasePath), "a usage error touches nothing")
    }
}
