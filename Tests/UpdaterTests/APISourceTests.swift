import Foundation
import GRDB
import Journal
import Store
import Testing

@testable import Updater

/// End-to-end tests of `hearings ingest --source api` against `tools/congress_stub.py`, which serves
/// the bundled sample's real documents in the API's shapes. They need python3 (tools/setup installs it).
@Suite(.enabled(if: python3Path != nil, "needs python3"))
struct APISourceTests {
    let cli = IngestCommandTests()
    /// The "now" of these runs: the morning after the sample's day 1.
    static let now = "2025-10-02T06:00:00Z"

    /// A distinctive key, so that finding it anywhere means it leaked.
    let key = "stubkey-\(UUID().uuidString.prefix(12))"

    func environment(_ stub: CongressStub, key: String? = nil, extra: [String: String] = [:]) -> [String:
        String]
    {
        var result = [
            "CONGRESS_API_KEY": key ?? self.key, "CONGRESS_API_BASE_URL": stub.baseURL,
            "HEARINGS_NOW": Self.now,
        ]
        result.merge(extra) { $1 }
        return result
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, UTC.
    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// A sample update date (either of the API's two forms).
    static func date(_ text: String) throws -> Date {
        var normalised = text.replacingOccurrences(of: " ", with: "T")
        if normalised.hasSuffix("+00:00") { normalised = String(normalised.dropLast(6)) + "Z" }
        return try #require(ISO8601DateFormatter().date(from: normalised), "\(text)")
    }

    /// Whether a logged request is for a meeting list page (`committee-meeting/{congress}/{chamber}`).
    static func isList(_ request: [String: Any]) -> Bool {
        guard let path = request["path"] as? String else { return false }
        return path.hasPrefix("committee-meeting/") && path.split(separator: "/").count == 3
    }

    /// Event ids in the database.
    func eventIDs(_ home: DataHome) throws -> Set<String> {
        Set(
            try Store(path: home.databasePath).queue.read {
                try String.fetchAll($0, sql: "SELECT event_id FROM hearings")
            })
    }

    /// The sample's committee list entries by system code.
    func sampleCommittees() throws -> [String: [String: Any]] {
        let path = stubRepositoryRoot + "/Sources/Congress/Resources/sample/committees.json"
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        let list = try #require((document as? [String: Any])?["committees"] as? [[String: Any]])
        var result: [String: [String: Any]] = [:]
        for entry in list { if let code = entry["systemCode"] as? String { result[code] = entry } }
        return result
    }

    @Test func apiRunEqualsDirRunOfTheSameDocuments() throws {
        let record = FileManager.default.temporaryDirectory.appendingPathComponent(
            "record-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: record) }
        // Pages of 60: three list pages per chamber. A 429 (Retry-After 1 s) on a list page and a 500 on
        // a detail are retried; what is finally served is recorded for the `dir:` run.
        let stub = try CongressStub([
            "--key", key, "--page-size", "60", "--record", record,
            "--fault", "429once:committee-meeting/119/senate@60:1",
            "--fault", "500once:committee-meeting/119/house/117214",
        ])
        defer { stub.stop() }
        let home = try temporaryHome()
        // Quotes around the key (as a .env line may have them) are stripped.
        let run = try cli.hearings(
            [
                "ingest", "--home", home.path, "--source", "api", "--lookback-days", "400", "--no-snapshot",
                "--format", "json",
            ],
            environment: environment(stub, key: "\"\(key)\""))
        #expect(run.status == 0, "\(run.stderr)")
        let metrics = try run.json()
        #expect(metrics["hearings_added"] as? Int == 300)
        #expect((metrics["errors"] as? [Any])?.isEmpty == true, "\(metrics["errors"] ?? "")")
        let requests = try stub.requests()
        #expect(metrics["api_requests"] as? Int == requests.count, "every attempt is counted")
        #expect(requests.allSatisfy { $0["key_ok"] as? Bool == true }, "the key travels with every request")

        // The lists: every page, 250 asked for, the window in the API's format, the 429 retried.
        let start = try Self.date(Self.now).addingTimeInterval(-400 * 86_400)
        let lists = requests.filter(Self.isList)
        for list in lists {
            #expect(list["limit"] as? String == "250")
            #expect(list["format"] as? String == "json")
            #expect(list["from"] as? String == Self.format(start))
            #expect(list["to"] as? String == Self.now)
        }
        func offsets(_ chamber: String) -> [Int] {
            lists.filter { $0["path"] as? String == "committee-meeting/119/\(chamber)" }.compactMap {
                $0["offset"] as? Int
            }
        }
        #expect(offsets("house") == [0, 60, 120])
        #expect(offsets("senate") == [0, 60, 60, 120])
        #expect(lists.filter { $0["status"] as? Int == 429 }.count == 1)
        let detail = requests.filter { $0["path"] as? String == "committee-meeting/119/house/117214" }
        #expect(detail.compactMap { $0["status"] as? Int } == [500, 200])
        #expect(run.stderr.contains("API request will be retried"))

        // Unknown committees: the detail of every committee the meetings name, and of their parents,
        // each fetched once; the rows come from those details.
        let meetings = try cli.sampleMeetings(day: 1)
        let catalogue = try sampleCommittees()
        var expected = Set<String>()
        for meeting in meetings.values {
            for reference in meeting["committees"] as? [[String: Any]] ?? [] {
                guard let code = reference["systemCode"] as? String else { continue }
                expected.insert(code)
                if let parent = (catalogue[code]?["parent"] as? [String: Any])?["systemCode"] as? String {
                    expected.insert(parent)
                }
            }
        }
        let committeeRequests = requests.compactMap { $0["path"] as? String }.filter {
            $0.hasPrefix("committee/")
        }
        #expect(committeeRequests.count == expected.count, "each committee once")
        #expect(
            Set(committeeRequests.compactMap { $0.split(separator: "/").last.map(String.init) }) == expected)
        let rows = try Store(path: home.databasePath).queue.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT c.system_code, c.name, c.type, p.system_code AS parent FROM committees c
                    LEFT JOIN committees p ON p.committee_id = c.parent_committee_id
                    """)
        }
        #expect(rows.count == expected.count)
        for row in rows {
            let code: String = row["system_code"]
            let entry = try #require(catalogue[code], "\(code)")
            #expect(row["name"] as String == entry["name"] as? String, "\(code)")
            #expect(row["type"] as String == entry["committeeTypeCode"] as? String, "\(code)")
            #expect(
                row["parent"] as String? == (entry["parent"] as? [String: Any])?["systemCode"] as? String,
                "\(code)")
        }

        // The same documents through `dir:` give the same database, timestamps and row ids included.
        let other = try temporaryHome()
        let offline = try cli.hearings(
            [
                "ingest", "--home", other.path, "--source", "dir:\(record)", "--no-snapshot", "--format",
                "json",
            ],
            environment: ["HEARINGS_NOW": Self.now])
        #expect(offline.status == 0, "\(offline.stderr)")
        #expect(try offline.json()["state_checksum"] as? String == metrics["state_checksum"] as? String)
        #expect(
            try managedRows(Store(path: other.databasePath)) == managedRows(Store(path: home.databasePath)))

        // A second run: every committee known, nothing fetched for them, nothing changed.
        let before = requests.count
        let again = try cli.hearings(
            [
                "ingest", "--home", home.path, "--source", "api", "--lookback-days", "400", "--no-snapshot",
                "--format", "json",
            ],
            environment: environment(stub))
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try again.json()["mutations"] as? Int == 0)
        let later = try stub.requests().dropFirst(before)
        #expect(!later.contains { ($0["path"] as? String)?.hasPrefix("committee/") == true })
    }

    @Test func failedRequestsSkipOnlyTheirMeetingAndTheKeyNeverLeaks() throws {
        let house = try cli.sampleMeetings(day: 1).filter { $0.value["chamber"] as? String == "House" }
        let ids = house.keys.sorted()
        let (slow, reset, truncated, missing, html) = (ids[0], ids[1], ids[2], ids[3], ids[4])
        // A committee only some other meeting names: its detail 404s, the meeting's reference stands in.
        let skipped = Set([truncated, missing, html])
        var users: [String: [String]] = [:]
        for (id, meeting) in house where !skipped.contains(id) {
            for reference in meeting["committees"] as? [[String: Any]] ?? [] {
                if let code = reference["systemCode"] as? String { users[code, default: []].append(id) }
            }
        }
        let lostCommittee = try #require(users.keys.sorted().first { !$0.hasSuffix("00") })
        let path = { (id: String) in "committee-meeting/119/house/\(id)" }
        // Pages of 100: the stub echoes the key in every `pagination.next`, as a careless server might.
        let stub = try CongressStub([
            "--key", key, "--page-size", "100",
            "--fault", "slowonce:\(path(slow)):5", "--fault", "resetonce:\(path(reset))",
            "--fault", "truncate:\(path(truncated))", "--fault", "404:\(path(missing))",
            "--fault", "html:\(path(html))", "--fault", "404:committee/house/\(lostCommittee)",
        ])
        defer { stub.stop() }
        let home = try temporaryHome()
        let run = try cli.hearings(
            [
                "ingest", "--home", home.path, "--source", "api", "--lookback-days", "400", "--no-snapshot",
                "--format", "json",
            ],
            environment: environment(stub, extra: ["CONGRESS_API_TIMEOUT": "2"]))
        #expect(run.status == 3, "some requests failed: \(run.stderr)")
        let metrics = try run.json()
        let errors = try #require(metrics["errors"] as? [String])
        #expect(errors.count == 4, "\(errors)")
        for id in skipped {
            #expect(errors.contains { $0.hasPrefix("meeting \(id) skipped:") }, "\(id): \(errors)")
        }
        #expect(errors.contains { $0.contains("malformed JSON") })
        #expect(errors.contains { $0.contains("HTTP 404") })
        #expect(errors.contains { $0.contains("not JSON: content type \"text/html\"") })
        #expect(errors.contains { $0.hasPrefix("committee \(lostCommittee):") })
        #expect(metrics["error_count"] as? Int == 4)
        // Every attempt is counted. The stub's log can differ a little either way for connections that
        // end without an answer: libcurl re-sends a request on a reused keep-alive connection by
        // itself (the stub sees one more), and on a loaded machine an attempt can time out before the
        // stub has read it (the stub sees one less).
        let served = try stub.requests().filter { $0["status"] as? Int != 0 }
        let attempts = try #require(metrics["api_requests"] as? Int)
        #expect(
            abs(attempts - served.count) <= 2,
            "\(attempts) attempts, \(served.count) served; \(served.filter { $0["status"] as? Int != 200 })")
        #expect(metrics["hearings_added"] as? Int == 297)
        let present = try eventIDs(home)
        #expect(present.isDisjoint(with: skipped), "a meeting whose detail failed is not stored at all")
        #expect(present.contains(slow) && present.contains(reset), "a timeout and a reset are retried")
        #expect(run.stderr.contains("timed out"))
        let name = try Store(path: home.databasePath).queue.read { db in
            try String.fetchOne(
                db, sql: "SELECT name FROM committees WHERE system_code = ?", arguments: [lostCommittee])
        }
        let reference = (house[try #require(users[lostCommittee]?.first)]?["committees"] as? [[String: Any]])?
            .first { $0["systemCode"] as? String == lostCommittee }
        #expect(name != nil && name == reference?["name"] as? String, "created from the meeting's reference")

        // The key: nowhere in the output, the data home (database, journal, logs) or the journal's text.
        let dump = try cli.hearings(["journal", "dump", "--home", home.path])
        #expect(dump.status == 0)
        #expect(dump.stdout.contains("\"run_finished\""))
        var haystacks = [("stdout", run.stdout), ("stderr", run.stderr), ("journal dump", dump.stdout)]
        let enumerator = try #require(FileManager.default.enumerator(atPath: home.path))
        for case let file as String in enumerator {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: home.path + "/" + file, isDirectory: &isDirectory),
                !isDirectory.boolValue
            else { continue }
            let data = try Data(contentsOf: URL(fileURLWithPath: home.path + "/" + file))
            haystacks.append((file, String(decoding: data, as: UTF8.self)))
        }
        #expect(haystacks.count > 5)
        for (name, text) in haystacks { #expect(!text.contains(key), "the key leaked into \(name)") }
    }

    @Test func theWindowIsTheLastSevenDaysByDefaultBothEndsIncluded() throws {
        let meetings = try cli.sampleMeetings(day: 1)
        var updates: [(Date, String)] = []
        for (id, meeting) in meetings {
            updates.append((try Self.date(meeting["updateDate"] as? String ?? ""), id))
        }
        updates.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        // A meeting updated strictly after an earlier one, with meetings updated more than 7 days later:
        // the window starts exactly at its update date.
        let week = 7 * 86_400.0
        let index = try #require(
            updates.indices.dropFirst(updates.count / 3).first { i in
                updates[i - 1].0 < updates[i].0
                    && updates.contains { $0.0 > updates[i].0.addingTimeInterval(week) }
            })
        let start = updates[index].0
        let end = start.addingTimeInterval(week)
        let expected = Set(updates.filter { $0.0 >= start && $0.0 <= end }.map(\.1))
        #expect(expected.contains(updates[index].1))
        #expect(expected.count < meetings.count / 2)

        let stub = try CongressStub(["--key", key])
        defer { stub.stop() }
        let home = try temporaryHome()
        let run = try cli.hearings(
            ["ingest", "--home", home.path, "--source", "api", "--no-snapshot", "--format", "json"],
            environment: environment(stub, extra: ["HEARINGS_NOW": Self.format(end)]))
        #expect(run.status == 0, "\(run.stderr)")
        for list in try stub.requests().filter(Self.isList) {
            #expect(list["from"] as? String == Self.format(start))
            #expect(list["to"] as? String == Self.format(end))
        }
        #expect(try eventIDs(home) == expected)
        let started = try events(home, type: EventType.runStarted).last.map { try $0.decode(RunStarted.self) }
        #expect(started?.lookbackDays == 7)
        #expect(started?.congress == 119)
    }

    @Test func aMissingKeyStopsTheRunBeforeAnyWork() throws {
        let home = try temporaryHome()
        try FileManager.default.removeItem(atPath: home.path)
        for variables in [[:], ["CONGRESS_API_KEY": "  \"\"  "], ["API_KEY": "''"]] {
            let run = try cli.hearings(
                ["ingest", "--home", home.path, "--source", "api"],
                environment: variables.merging(["CONGRESS_API_BASE_URL": "http://127.0.0.1:9/v3"]) { $1 })
            #expect(run.status == 1)
            #expect(run.stderr.contains("CONGRESS_API_KEY"), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: home.path), "nothing was created")
        }
        // The key can also come from API_KEY, the predecessor's name; a wrong base URL is refused.
        let bad = try cli.hearings(
            ["ingest", "--home", home.path, "--source", "api"],
            environment: ["API_KEY": key, "CONGRESS_API_BASE_URL": "ftp://example.org/?api_key=\(key)"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("CONGRESS_API_BASE_URL"))
        #expect(!bad.stderr.contains(key))
        #expect(!FileManager.default.fileExists(atPath: home.path))
    }
}
