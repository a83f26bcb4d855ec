import Foundation
import GRDB
import Journal
import Store
import Testing

@testable import Updater

/// A folder of copies of `files` (names under `source`); the meetings of `retitled` get a title with
/// `suffix` appended, as a source that rewrites titles would send them.
func retitledFolder(
    from source: String, files: [String], retitled: Set<String>, suffix: String, at folder: String
) throws -> String {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for name in files {
        let data = try Data(contentsOf: URL(fileURLWithPath: source + "/" + name))
        guard retitled.contains(name) else {
            try data.write(to: URL(fileURLWithPath: folder + "/" + name))
            continue
        }
        var document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var meeting = try #require(document["committeeMeeting"] as? [String: Any])
        meeting["title"] = "\(meeting["title"] as? String ?? "")\(suffix)"
        document["committeeMeeting"] = meeting
        try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
            .write(to: URL(fileURLWithPath: folder + "/" + name))
    }
    return folder
}

/// Ten ordinary days of a daily run (figures shaped like the sample's second day), for anomaly tests.
private let ordinaryDays: [[String: Double]] = (0..<10).map { day in
    let checked: [Double] = [118, 124, 120, 131, 115, 122, 127, 119, 125, 121]
    let updated: [Double] = [58, 61, 55, 66, 60, 57, 63, 59, 62, 60]
    let added: [Double] = [40, 38, 44, 35, 41, 39, 42, 37, 43, 40]
    let witnesses: [Double] = [45, 52, 40, 48, 50, 44, 47, 51, 43, 46]
    let documents: [Double] = [120, 135, 110, 128, 125, 118, 130, 122, 127, 119]
    let titles: [Double] = [3, 5, 2, 4, 6, 3, 4, 5, 2, 4]
    return [
        "meetings_checked": checked[day], "meetings_updated": updated[day], "meetings_added": added[day],
        "meetings_deleted": 0, "witnesses_changed": witnesses[day], "documents_changed": documents[day],
        "titles_changed": titles[day],
    ]
}

private func records(_ days: [[String: Double]]) -> [RunRecord] {
    days.enumerated().map { RunRecord(runID: Int64($0.offset + 1), durationSeconds: 30, counts: $0.element) }
}

@Suite struct RunHealthTests {
    // MARK: Rates

    struct RateCase: CustomTestStringConvertible, Sendable {
        var part: Int
        var whole: Int
        var threshold: Double
        var fires: Bool
        var testDescription: String { "\(part)/\(whole) against \(threshold): \(fires ? "fires" : "quiet")" }
    }

    @Test(arguments: [
        RateCase(part: 0, whole: 0, threshold: 0.10, fires: false),  // nothing happened: quiet
        RateCase(part: 5, whole: 0, threshold: 0.10, fires: false),  // no requests: quiet whatever the errors
        RateCase(part: 0, whole: 7, threshold: 0.10, fires: false),
        RateCase(part: 1, whole: 10, threshold: 0.10, fires: false),  // exactly at the threshold: quiet
        RateCase(part: 2, whole: 10, threshold: 0.10, fires: true),
        RateCase(part: 1, whole: 7, threshold: 0.10, fires: true),  // one of seven batches: 14.3 %
        RateCase(part: 1, whole: 11, threshold: 0.10, fires: false),  // 9.1 %
        RateCase(part: 3, whole: 10, threshold: 0.25, fires: true),
        RateCase(part: 10, whole: 10, threshold: 1.0, fires: false),
    ])
    func rateAlertFiresAboveItsThreshold(_ rate: RateCase) {
        let alert = HealthRules.rate(
            "batch_failure_rate", part: rate.part, whole: rate.whole, threshold: rate.threshold,
            what: "batches failed")
        #expect((alert != nil) == rate.fires)
        if let alert {
            #expect(alert.value == Double(rate.part) / Double(rate.whole))
            #expect(alert.threshold == rate.threshold)
            #expect(!alert.critical)
            #expect(
                alert.message.contains("\(rate.part) of \(rate.whole) batches failed"), "\(alert.message)")
        }
    }

    struct MetricsCase: CustomTestStringConvertible, Sendable {
        var name: String
        var batches: (count: Int, failed: Int)
        var checked: Int
        var rejectedItems: [String]
        var api: (requests: Int, errors: Int)
        var expected: [String]
        var testDescription: String { name }
    }

    @Test(arguments: [
        MetricsCase(
            name: "an ordinary run", batches: (7, 0), checked: 300, rejectedItems: [], api: (0, 0),
            expected: []),
        MetricsCase(
            name: "one failed batch of seven", batches: (7, 1), checked: 300, rejectedItems: [], api: (0, 0),
            expected: ["batch_failure_rate"]),
        MetricsCase(
            name: "ten of a hundred meetings rejected (at the threshold)", batches: (2, 0), checked: 100,
            rejectedItems: (1...10).map(String.init), api: (0, 0), expected: []),
        MetricsCase(
            name: "eleven of a hundred rejected, one of them twice", batches: (2, 0), checked: 100,
            rejectedItems: (1...11).map(String.init) + ["1"], api: (0, 0), expected: ["rejected_item_rate"]),
        MetricsCase(
            name: "only undecodable documents", batches: (0, 0), checked: 0, rejectedItems: ["a.json"],
            api: (0, 0), expected: ["rejected_item_rate"]),
        MetricsCase(
            name: "API errors without requests (an offline source)", batches: (1, 0), checked: 10,
            rejectedItems: [], api: (0, 3), expected: []),
        MetricsCase(
            name: "one API error in ten requests", batches: (1, 0), checked: 10, rejectedItems: [],
            api: (10, 1), expected: []),
        MetricsCase(
            name: "two API errors in ten requests", batches: (1, 0), checked: 10, rejectedItems: [],
            api: (10, 2), expected: ["api_error_rate"]),
        MetricsCase(
            name: "everything at once", batches: (4, 4), checked: 10, rejectedItems: ["1", "2"], api: (5, 5),
            expected: ["batch_failure_rate", "rejected_item_rate", "api_error_rate"]),
    ])
    func alertsOfAFinishedRun(_ example: MetricsCase) {
        var metrics = IngestMetrics()
        metrics.batchProcessing.batchCount = example.batches.count
        metrics.batchProcessing.batchesFailed = example.batches.failed
        metrics.hearingsChecked = example.checked
        metrics.validationIssues = example.rejectedItems.map {
            IngestMetrics.Issue(item: $0, field: "title", problem: "missing")
        }
        metrics.apiRequests = example.api.requests
        metrics.apiErrors = example.api.errors
        let alerts = HealthRules.alerts(for: metrics, history: [], policy: HealthPolicy())
        #expect(alerts.map(\.name) == example.expected)
    }

    // MARK: Duration

    struct DurationCase: CustomTestStringConvertible, Sendable {
        var seconds: Double
        var history: [Double]
        var minimumExcess: Double
        var fires: Bool
        var testDescription: String { "\(seconds) s against \(history): \(fires ? "fires" : "quiet")" }
    }

    @Test(arguments: [
        // Four runs: too little history.
        DurationCase(seconds: 100, history: [20, 21, 19, 20], minimumExcess: 5, fires: false),
        DurationCase(seconds: 100, history: [20, 21, 19, 20, 22], minimumExcess: 5, fires: true),
        // Exactly twice the median: quiet.
        DurationCase(seconds: 40, history: [20, 21, 19, 20, 22], minimumExcess: 5, fires: false),
        DurationCase(seconds: 41, history: [20, 21, 19, 20, 22], minimumExcess: 5, fires: true),
        // Five times the median but only 1.2 s more: noise, unless the floor is lowered.
        DurationCase(seconds: 1.5, history: [0.3, 0.2, 0.4, 0.3, 0.3], minimumExcess: 5, fires: false),
        DurationCase(seconds: 1.5, history: [0.3, 0.2, 0.4, 0.3, 0.3], minimumExcess: 0, fires: true),
        // The median, not the mean: one slow run in the history does not raise the bar.
        DurationCase(seconds: 100, history: [20, 20, 20, 20, 20, 900], minimumExcess: 5, fires: true),
    ])
    func durationAlertAgainstTheMedianOfRecentRuns(_ example: DurationCase) {
        var policy = HealthPolicy()
        policy.durationMinimumExcess = example.minimumExcess
        let alert = HealthRules.duration(example.seconds, history: example.history, policy: policy)
        #expect((alert != nil) == example.fires)
        if let alert, let median = HealthRules.median(example.history) {
            #expect(alert.name == "duration")
            #expect(alert.threshold == 2 * median)
        }
    }

    // MARK: Anomalies

    @Test func modifiedZScoreFollowsIglewiczAndHoaglin() throws {
        // Median 5, absolute deviations 0, 1, 1, 2, 2 → MAD 1, below the floor 0.6745·√5 ≈ 1.51: the
        // floor is the scale.
        let history: [Double] = [3, 4, 5, 6, 7]
        let score = try #require(HealthRules.modifiedZScore(20, history: history))
        #expect(score.median == 5)
        #expect(score.mad == 1)
        let floor = 0.6745 * 5.0.squareRoot()
        #expect(abs(score.score - 0.6745 * 15 / floor) < 1e-9)
        // A wide history: the MAD is the scale.
        let wide: [Double] = [100, 140, 60, 120, 80, 100, 130, 70]
        let wideScore = try #require(HealthRules.modifiedZScore(300, history: wide))
        #expect(wideScore.median == 100)
        #expect(wideScore.mad == 25)
        #expect(abs(wideScore.score - 0.6745 * 200 / 25) < 1e-9)
        // A count that never varied: 4 after ten zeros is an anomaly, 3 is not.
        let zeros = [Double](repeating: 0, count: 10)
        #expect(try #require(HealthRules.modifiedZScore(4, history: zeros)).score > 3.5)
        #expect(try #require(HealthRules.modifiedZScore(3, history: zeros)).score < 3.5)
        #expect(HealthRules.modifiedZScore(1, history: []) == nil)
    }

    @Test func aDayThatChangesEveryTitleIsFlaggedAndOrdinaryDaysAreNot() {
        let policy = HealthPolicy()
        // Each ordinary day against the other nine: quiet.
        for (day, counts) in ordinaryDays.enumerated() {
            var others = ordinaryDays
            others.remove(at: day)
            let alerts = HealthRules.anomalies(counts, history: records(others), policy: policy)
            #expect(alerts.isEmpty, "ordinary day \(day + 1) flagged: \(alerts.map(\.message))")
        }
        // The eleventh day changes every title of the 120 meetings it checks.
        var outlier = ordinaryDays[0]
        outlier["meetings_checked"] = 120
        outlier["meetings_updated"] = 120
        outlier["titles_changed"] = 120
        let alerts = HealthRules.anomalies(outlier, history: records(ordinaryDays), policy: policy)
        let titles = alerts.first { $0.name == "anomaly.titles_changed" }
        #expect(titles?.critical == true)
        #expect((titles?.value ?? 0) > 3.5)
        #expect(titles?.threshold == 3.5)
        #expect(
            titles?.message.contains("titles_changed 120 is far above the last 10 comparable runs") == true)
        #expect(titles?.message.contains("median 4") == true, "\(titles?.message ?? "")")
        // Twice the usual updates is an anomaly too, but updating is not destructive: not critical.
        let updated = alerts.first { $0.name == "anomaly.meetings_updated" }
        #expect(updated?.critical == false)
        #expect(alerts.filter(\.critical).map(\.name) == ["anomaly.titles_changed"])
    }

    @Test func criticalOnlyFarAboveInADestructiveCount() {
        let policy = HealthPolicy()
        var deletions = ordinaryDays[3]
        deletions["meetings_deleted"] = 50
        let deleted = HealthRules.anomalies(deletions, history: records(ordinaryDays), policy: policy)
        #expect(deleted.map(\.name) == ["anomaly.meetings_deleted"])
        #expect(deleted.first?.critical == true)
        // Far below: an anomaly (a source that returned nothing), never critical.
        var empty = ordinaryDays[3]
        empty["meetings_checked"] = 0
        empty["titles_changed"] = 0
        let alerts = HealthRules.anomalies(empty, history: records(ordinaryDays), policy: policy)
        #expect(alerts.map(\.name) == ["anomaly.meetings_checked"])
        #expect(alerts.allSatisfy { !$0.critical && $0.value < -3.5 && $0.message.contains("far below") })
    }

    @Test func quietWithTooLittleHistory() {
        var outlier = ordinaryDays[0]
        outlier["titles_changed"] = 1_000
        let policy = HealthPolicy()
        #expect(
            HealthRules.anomalies(outlier, history: records(Array(ordinaryDays.prefix(4))), policy: policy)
                .isEmpty)
        #expect(
            !HealthRules.anomalies(outlier, history: records(Array(ordinaryDays.prefix(5))), policy: policy)
                .isEmpty)
        // History from runs journaled before `changes` existed has no titles: those runs do not count.
        let old = ordinaryDays.map {
            $0.filter { $0.key.hasPrefix("meetings_") && $0.key != "meetings_deleted" }
        }
        #expect(
            HealthRules.anomalies(outlier, history: records(old), policy: policy).isEmpty,
            "no titles history at all")
    }

    // MARK: The journal side

    @Test func oldRunFinishedEventsStillRead() throws {
        // A `run_finished` line as the previous version wrote it: no changes, no alerts, no api_errors.
        let line = Array(
            (#"{"position":9,"time":"2025-10-13T06:00:00.000Z","type":"run_finished","metrics":{"#
                + #""duration_seconds":1.5,"hearings_added":40,"hearings_checked":120,"hearings_updated":60,"#
                + #""source":"sample:2"},"run_id":2,"status":"ok"}"#).utf8)
        let record = try #require(try Session.runRecord(line, kind: "sample"))
        #expect(record.runID == 2)
        #expect(record.durationSeconds == 1.5)
        #expect(record.counts == ["meetings_checked": 120, "meetings_added": 40, "meetings_updated": 60])
        #expect(try Session.runRecord(line, kind: "dir") == nil, "another kind of source")
        let finished = try EventLineReader.runFinished(line)
        #expect(finished.alerts.isEmpty)
        #expect(finished.counts?.hearingsChecked == 120)
        let metrics = try JSONDecoder().decode(
            IngestMetrics.self, from: Data(#"{"hearings_checked":3,"source":"api"}"#.utf8))
        #expect(metrics.changes == nil)
        #expect(metrics.alerts.isEmpty)
        #expect(metrics.apiErrors == 0)
        #expect(!metrics.anomalyReverted)
    }

    @Test func historyComesFromTheFinishedRunsOfTheSameKind() throws {
        let home = try temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home.path) }
        let folder = try meetingFolder(day: 1, chamber: "house", range: 0..<6, in: home, name: "one")
        let first = try ingest(home) { $0.source = .directory(folder) }
        let second = try ingest(home) { $0.source = .sample(day: 1) }
        let third = try ingest(home) { $0.source = .directory(folder) }
        #expect(first.changes?.titlesChanged == 0, "six meetings added: no title changed")
        #expect(first.changes?.meetingsDeleted == 0)
        #expect((first.changes?.witnessesChanged ?? 0) > 0, "their witnesses inserted")
        #expect(second.alerts.isEmpty && third.alerts.isEmpty)
        let session = try Session(home: home, command: "test")
        defer { try? session.close() }
        let history = try session.runHistory(kind: "dir", limit: 30)
        #expect(history.map(\.runID) == [third.runID, first.runID], "newest first, dir runs only")
        #expect(history.last?.counts["meetings_added"] == 6)
        #expect(history.last?.counts["titles_changed"] == 0)
        #expect(try session.runHistory(kind: "sample", limit: 30).map(\.runID) == [second.runID])
        #expect(try session.runHistory(kind: "dir", limit: 1).map(\.runID) == [third.runID])
        #expect(try session.runHistory(kind: "api", limit: 30).isEmpty)
    }

    @Test func verifyOfARunFindsARowChangedBehindTheJournalsBack() throws {
        let home = try temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home.path) }
        let folder = try meetingFolder(day: 1, chamber: "house", range: 0..<6, in: home, name: "one")
        let metrics = try ingest(home) { $0.source = .directory(folder) }
        #expect(!metrics.alerts.contains { $0.name == "verify" })
        let session = try Session(home: home, command: "test")
        defer { try? session.close() }
        #expect(try session.verifyRun(metrics.runID).isEmpty)
        try session.store.queue.write { db in
            try db.execute(sql: "UPDATE hearings SET title = 'edited by hand' WHERE hearing_id = 1")
        }
        let problems = try session.verifyRun(metrics.runID)
        #expect(problems.count == 1)
        #expect(problems.first?.contains("no longer holds what it left") == true, "\(problems)")
        #expect(problems.first?.contains("title") == true, "\(problems)")
    }

    @Test func verifyOfRecordsFindsDamageInItsRangeOnly() throws {
        let home = try temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home.path) }
        let folder = try meetingFolder(day: 1, chamber: "house", range: 0..<6, in: home, name: "one")
        let first = try ingest(home) { $0.source = .directory(folder) }
        let second = try ingest(home) { $0.source = .sample(day: 1) }
        let configuration = JournalConfiguration(directory: home.journalDirectory)
        #expect(
            try Journal.open(configuration, mode: .readOnly).verifyRecords(from: UInt64(first.runID)) == [])
        // Flip one byte inside the first run's records (after the segment's metadata).
        let segment = try #require(
            try FileManager.default.contentsOfDirectory(atPath: home.journalDirectory).first {
                $0.hasSuffix(".lz4")
            })
        let path = home.journalDirectory + "/" + segment
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[200] ^= 0xff
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let journal = try Journal.open(configuration, mode: .readOnly)
        let problems = journal.verifyRecords(from: UInt64(first.runID))
        #expect(!problems.isEmpty)
        // A range after the damage reads only its own records, chained to the record before it.
        #expect(journal.verifyRecords(from: UInt64(second.runID)) == [])
    }
}
