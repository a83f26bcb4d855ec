import Foundation
import GRDB
import Journal
import Store
import Testing

@testable import Updater

/// 2025-10-13T06:00:00Z: every session of these tests runs on this clock, so journal times, row
/// timestamps and durations are the same on every run (the golden files depend on it).
private let fixedClock: @Sendable () -> Date = { Date(timeIntervalSince1970: 1_760_335_200) }

private func ingestFixed(_ home: DataHome, _ source: IngestOptions.Source, batchSize: Int = 50) throws
    -> IngestMetrics
{
    let session = try Session(home: home, command: "ingest", clock: fixedClock)
    defer { try? session.close() }
    var options = IngestOptions()
    options.source = source
    options.batchSize = batchSize
    return try session.ingest(options)
}

private func revertBatch(_ home: DataHome, _ batch: Int64) throws -> RevertReport {
    let session = try Session(home: home, command: "revert", clock: fixedClock)
    defer { try? session.close() }
    return try session.revert(batch: batch)
}

private func auditBatch(_ home: DataHome, _ batch: Int64) throws -> BatchAudit? {
    let journal = try Journal.open(JournalConfiguration(directory: home.journalDirectory), mode: .readOnly)
    defer { try? journal.close() }
    return try Audit.batch(batch, in: journal)
}

/// The log through the index, checked against the log from a scan of the whole journal, whole and cut
/// by `--limit`.
private func journalLog(_ home: DataHome) throws -> JournalLog {
    let journal = try Journal.open(JournalConfiguration(directory: home.journalDirectory), mode: .readOnly)
    defer { try? journal.close() }
    let indexed = try JournalLog.read(journal)
    #expect(indexed == (try JournalLog.read(journal, scan: true)))
    for limit in 1...3 {
        let limited = try JournalLog.read(journal, limit: limit)
        #expect(limited == (try JournalLog.read(journal, limit: limit, scan: true)))
        #expect(limited.runs == Array(indexed.runs.prefix(limit)))
    }
    return indexed
}

private func journalEnd(_ home: DataHome) throws -> UInt64 {
    let journal = try Journal.open(JournalConfiguration(directory: home.journalDirectory), mode: .readOnly)
    defer { try? journal.close() }
    return journal.nextPosition
}

/// Day 1 then day 2 of the bundled sample: batches 1–7 (committees, then six of meetings) and 8–10.
private func twoDays() throws -> (home: DataHome, dayOne: [String: [RowImage]], dayTwo: [String: [RowImage]])
{
    let home = try temporaryHome()
    let first = try ingestFixed(home, .sample(day: 1))
    #expect(first.batchIDs == Array(1...7))
    let dayOne = try managedRows(try Store(path: home.databasePath))
    let second = try ingestFixed(home, .sample(day: 2))
    #expect(second.batchIDs == [8, 9, 10])
    return (home, dayOne, try managedRows(try Store(path: home.databasePath)))
}

private func sampleDocument(day: Int, _ chamber: String, _ eventID: String) -> String {
    sampleFolder(day: day) + "/\(chamber)/\(eventID).json"
}

/// A folder holding day-2 meetings: 118603 (postponed here, and one witness appearance and its two
/// documents deleted), 337461 (new, with its committee link), 337425 made invalid, and a broken file.
private func goldenInput(_ home: DataHome) throws -> String {
    let folder = home.path + "/input"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try FileManager.default.copyItem(
        atPath: sampleDocument(day: 2, "senate", "337461"), toPath: folder + "/337461.json")
    func edited(_ chamber: String, _ id: String, _ change: (inout [String: Any]) -> Void) throws {
        let path = sampleDocument(day: 2, chamber, id)
        var document =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
            as? [String: Any]
            ?? [:]
        var meeting = document["committeeMeeting"] as? [String: Any] ?? [:]
        change(&meeting)
        document["committeeMeeting"] = meeting
        try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]).write(
            to: URL(fileURLWithPath: folder + "/\(id).json"))
    }
    try edited("house", "118603") { $0["meetingStatus"] = "Postponed" }
    try edited("senate", "337425") { $0["chamber"] = "Hosue" }
    try Data("{not json".utf8).write(to: URL(fileURLWithPath: folder + "/broken.json"))
    return folder
}

private func goldenFile(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
}

/// Compares `text` with golden file `name`; with RECORD_GOLDEN=1 in the environment, writes it instead.
private func expectGolden(_ text: String, _ name: String) throws {
    let url = goldenFile(name)
    if ProcessInfo.processInfo.environment["RECORD_GOLDEN"] == "1" {
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    if text != expected {
        let actual = FileManager.default.temporaryDirectory.appendingPathComponent("actual-\(name)")
        try Data(text.utf8).write(to: actual)
        Issue.record("\(name) differs from the golden file; actual output in \(actual.path)")
    }
}

private func jsonText<T: Encodable>(_ value: T) throws -> String {
    // The same settings as the command-line tool's `jsonText`.
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// The `hearings` executable built next to the test bundle; nil when it is not there.
private func hearingsExecutable() -> URL? {
    var starts: [URL] = [Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0])]
    if let executable = Bundle.main.executableURL { starts.append(executable) }
    if let products = ProcessInfo.processInfo.environment["BUILT_PRODUCTS_DIR"] {
        starts.append(URL(fileURLWithPath: products + "/hearings.xctest"))
    }
    for start in starts {
        var folder = start.deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = folder.appendingPathComponent("hearings")
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isFolder),
                !isFolder.boolValue,
                FileManager.default.isExecutableFile(atPath: candidate.path)
            {
                return candidate
            }
            folder = folder.deletingLastPathComponent()
        }
    }
    return nil
}

private func runHearings(_ executable: URL, _ arguments: [String]) throws -> (
    status: Int32, stdout: String, stderr: String
) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // Read before waiting: a large document would otherwise fill the pipe and block the child.
    let stdout = output.fileHandleForReading.readDataToEndOfFile()
    let stderr = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (
        process.terminationStatus, String(decoding: stdout, as: UTF8.self),
        String(decoding: stderr, as: UTF8.self)
    )
}

/// Changes the title of the hearing with `eventID` in a batch of its own (a later batch touching a row).
private func retitle(_ home: DataHome, eventID: String, to title: String) throws -> Int64 {
    let session = try Session(home: home, command: "test", clock: fixedClock)
    defer { try? session.close() }
    let runID = try run(session)
    let report = try session.commitBatch(runID: runID, items: [eventID]) { db in
        let current = try #require(
            try Store.rows(in: Schema.hearings, where: "event_id", equals: .text(eventID), db).first)
        var changed = current
        changed["title"] = .text(title)
        return try stage(
            [Mutation(kind: .update, table: Schema.hearings, before: current, after: changed)], db)
    }
    try session.finishRun(RunFinished(runID: runID, status: "ok", metrics: nil))
    return report.batchID
}

@Suite struct AuditRevertTests {
    // MARK: Revert

    @Test func revertRestoresTheExactRowsBeforeTheBatches() throws {
        let (home, dayOne, dayTwo) = try twoDays()
        let last = try revertBatch(home, 10)
        #expect(last.compensationBatchID == 11)
        #expect(last.reapplies == nil)
        #expect(last.mutations == 93)
        _ = try revertBatch(home, 9)
        _ = try revertBatch(home, 8)
        let store = try Store(path: home.databasePath)
        let rows = try managedRows(store)
        #expect(rows == dayOne, "every managed row is as before day 2")
        #expect(rows != dayTwo)
        let scratch = try store.queue.read { db in try StateChecksum.compute(db) }
        let log = try journalLog(home)
        #expect(log.runs.count == 5)
        #expect(log.runs.first?.command == "revert")
        let intents = try events(home, type: EventType.batchIntent).map { try $0.decode(BatchIntent.self) }
        let compensations = intents.filter { $0.kind == .compensation }
        #expect(compensations.map(\.compensates) == [10, 9, 8])
        #expect(compensations.allSatisfy { $0.reason == "revert" })
        #expect(compensations.last?.checksumAfter == scratch.description)
        let runs = try events(home, type: EventType.runStarted).map { try $0.decode(RunStarted.self) }
        #expect(runs.map(\.command) == ["ingest", "ingest", "revert", "revert", "revert"])
    }

    @Test func conflictRefusesAndChangesNothing() throws {
        let (home, _, _) = try twoDays()
        // 118603 is in batch 10 (its hearing updated); a later batch changes the title again.
        let later = try retitle(home, eventID: "118603", to: "Retitled by hand")
        #expect(later == 11)
        let rows = try managedRows(try Store(path: home.databasePath))
        let end = try journalEnd(home)
        let session = try Session(home: home, command: "revert", clock: fixedClock)
        defer { try? session.close() }
        let plan = try session.planRevert(batch: 10)
        #expect(plan.conflicts.count == 1)
        let conflict = try #require(plan.conflicts.first)
        #expect(conflict.table == "hearings")
        #expect(conflict.label == "118603")
        #expect(conflict.field == "title")
        #expect(conflict.found == .text("Retitled by hand"))
        #expect(conflict.expected != conflict.found)
        do {
            _ = try session.revert(batch: 10)
            Issue.record("a conflicting revert was applied")
        } catch let error as UpdaterError {
            #expect(error.kind == .conflict)
            #expect(error.exitCode == 5)
            #expect(error.message.contains("hearings 118603 (hearing_id="), "\(error.message)")
            #expect(error.message.contains("title: expected"), "\(error.message)")
            #expect(error.message.contains("found \"Retitled by hand\""), "\(error.message)")
        }
        try session.close()
        #expect(try managedRows(try Store(path: home.databasePath)) == rows, "no row changed")
        #expect(try journalEnd(home) == end, "nothing was journaled")
        // The later batch touched only that hearing row: batch 9 still reverts cleanly.
        _ = try revertBatch(home, 9)
    }

    @Test func doubleRevertIsRefusedNamingTheRevertingBatch() throws {
        let (home, _, _) = try twoDays()
        _ = try revertBatch(home, 10)
        let rows = try managedRows(try Store(path: home.databasePath))
        do {
            _ = try revertBatch(home, 10)
            Issue.record("a reverted batch was reverted again")
        } catch let error as UpdaterError {
            #expect(error.kind == .failure)
            #expect(error.message.contains("batch 10 is already reverted by batch 11"), "\(error.message)")
        }
        #expect(try managedRows(try Store(path: home.databasePath)) == rows)
    }

    @Test func revertingTheRevertAppliesTheBatchAgain() throws {
        let (home, _, dayTwo) = try twoDays()
        _ = try revertBatch(home, 10)
        let reverted = try managedRows(try Store(path: home.databasePath))
        let again = try revertBatch(home, 11)
        #expect(again.compensationBatchID == 12)
        #expect(again.reapplies == 10)
        #expect(try managedRows(try Store(path: home.databasePath)) == dayTwo, "batch 10 is applied again")
        #expect(throws: UpdaterError.self) { try revertBatch(home, 11) }
        // Batch 10 stands again, so it can be reverted again.
        let third = try revertBatch(home, 10)
        #expect(third.compensationBatchID == 13)
        #expect(try managedRows(try Store(path: home.databasePath)) == reverted)
        let audit = try #require(try auditBatch(home, 10))
        #expect(audit.compensations.map(\.batchID) == [11, 13])
        #expect(audit.compensations.map(\.undoneBy) == [12, nil])
        #expect(audit.revertedBy == 13)
        #expect(audit.laterBatches.map(\.batchID) == [11, 12, 13])
        let log = try journalLog(home)
        let batches = log.runs.flatMap(\.batches)
        #expect(batches.first { $0.batchID == 10 }?.revertedBy == 13)
        #expect(batches.first { $0.batchID == 11 }?.revertedBy == 12)
        #expect(batches.first { $0.batchID == 12 }?.revertedBy == nil)
        #expect(
            log.text.contains("batch 12  2025-10-13T06:00:00.000Z  compensation of batch 11 (revert)"),
            "\(log.text)")
        #expect(log.text.contains("reverted by 13"))
    }

    @Test func batchesThatChangedNothingOrAreUnknownAreRefused() throws {
        let home = try temporaryHome()
        try failBatch(3, in: home)
        let metrics = try ingestFixed(home, .sample(day: 1))
        #expect(metrics.batchProcessing.batchesFailed == 1)
        for (batch, message) in [
            (Int64(3), "batch 3 was not committed (failed: "), (999, "batch 999 is not in the journal"),
        ] {
            do {
                _ = try revertBatch(home, batch)
                Issue.record("batch \(batch) was reverted")
            } catch let error as UpdaterError {
                #expect(error.kind == .failure)
                #expect(error.message.contains(message), "\(error.message)")
            }
        }
        let audit = try #require(try auditBatch(home, 3))
        #expect(audit.outcome?.result == .failed)
        #expect(audit.outcome?.reason?.contains("injected failure") == true)
        #expect(try auditBatch(home, 999) == nil)
    }

    @Test func aCrashDuringRevertIsCompletedByRecovery() throws {
        let (home, _, _) = try twoDays()
        let before = try managedRows(try Store(path: home.databasePath))
        do {
            // The revert dies after its intent is durable, before its transaction commits.
            let session = try Session(home: home, command: "revert", clock: fixedClock)
            let runID = try session.startRun(
                RunStarted(
                    runID: 0, command: "revert", source: nil, congress: nil, lookbackDays: nil,
                    batchSize: nil,
                    atomic: false))
            let original = try #require(try session.intent(ofBatch: 10))
            let compensation = original.mutations.inverse
            let intent = BatchIntent(
                batchID: session.nextBatchID, runID: runID, kind: .compensation, compensates: 10,
                reason: "revert", items: original.items, mutations: compensation,
                checksumBefore: session.checksum.description,
                checksumAfter: session.checksum.applying(compensation).description)
            var keys = [JournalEvent.batchKey(intent.batchID), JournalEvent.runKey(runID)]
            keys += Set(compensation.map { JournalEvent.rowKey(table: $0.table, key: $0.key) }).sorted()
            keys.append(JournalEvent.batchKey(10))
            try session.journal.append([
                try JournalEvent(type: EventType.batchIntent, fields: intent, keys: keys)
            ])
            #expect(try managedRows(session.store) == before, "nothing applied yet")
            try session.close()
        }
        let reopened = try Session(home: home, command: "recover", clock: fixedClock)
        #expect(reopened.recovery.actions == ["batch 11: interrupted compensation completed"])
        let rows = try managedRows(reopened.store)
        let scratch = try reopened.store.queue.read { db in try StateChecksum.compute(db) }
        #expect(scratch == reopened.checksum)
        try reopened.close()
        #expect(rows != before)
        let audit = try #require(try auditBatch(home, 10))
        #expect(audit.revertedBy == 11)
        #expect(audit.compensations.first?.result == .committed)
        let compensationAudit = try #require(try auditBatch(home, 11))
        #expect(compensationAudit.outcome?.recovered == true)
        #expect(throws: UpdaterError.self) { try revertBatch(home, 10) }
        // Undoing the completed compensation gives back day 2 exactly.
        _ = try revertBatch(home, 11)
        #expect(try managedRows(try Store(path: home.databasePath)) == before)
    }

    // MARK: Audit

    @Test func auditGoldenFiles() throws {
        let home = try temporaryHome()
        _ = try ingestFixed(home, .sample(day: 1))
        let metrics = try ingestFixed(home, .directory(try goldenInput(home)))
        #expect(metrics.batchIDs == [8])
        #expect(metrics.validationIssues.count == 2)
        _ = try retitle(home, eventID: "118603", to: "Retitled by hand")
        _ = try revertBatch(home, 9)  // undo the retitle, then batch 8 itself
        _ = try revertBatch(home, 8)
        let audit = try #require(try auditBatch(home, 8))
        #expect(Set(audit.mutations.map(\.operation)) == [.insert, .update, .delete])
        #expect(audit.rejected.count == 2)
        #expect(audit.revertedBy == 11)
        #expect(audit.laterBatches.map(\.batchID) == [9, 10, 11])
        let deleted = try #require(audit.mutations.first { $0.table == "witness_appearances" })
        #expect(deleted.naturalKey["event_id"] == "118603", "the parent hearing's event id")
        #expect(deleted.naturalKey["full_name"] != .null, "the witness, from an earlier intent")
        let link = try #require(audit.mutations.first { $0.table == "hearing_committees" })
        #expect(link.naturalKey["system_code"] != .null, "the committee, from batch 1")
        // The run's source names the temporary folder: the golden files say $HOME instead.
        func normalized(_ text: String) -> String { text.replacingOccurrences(of: home.path, with: "$HOME") }
        try expectGolden(normalized(audit.text), "audit-batch-8.txt.golden")
        try expectGolden(normalized(try jsonText(audit)) + "\n", "audit-batch-8.json.golden")
        #expect(audit.json == (try jsonText(audit)), "what `hearings audit --format json` prints")
    }

    /// `BatchAudit.json` writes by hand what `JSONEncoder` writes: on every batch of two days and a
    /// revert, and on an audit holding every kind of value, escape, absent field and empty list.
    @Test func handWrittenAuditJSONIsJSONEncoders() throws {
        let (home, _, _) = try twoDays()
        _ = try revertBatch(home, 9)
        for batch in 1...11 {
            let audit = try #require(try auditBatch(home, Int64(batch)))
            #expect(audit.json == (try jsonText(audit)), "batch \(batch)")
        }
        let text = "tab\t quote\" backslash\\ slash/ nul\u{0} bell\u{7} \u{1f} é 😀 \u{7f} \u{2028} {[]}"
        let values: [Value] = [
            .null, .integer(-9_223_372_036_854_775_808), .integer(0), .text(""), .text(text), .real(0.1),
            .real(12), .real(-0.0), .real(1e20), .real(5e-7), .real(1.2345678901234568e17), .blob([]),
            .blob([0, 1, 0xab, 0xff]),
        ]
        let image = RowImage(
            Dictionary(uniqueKeysWithValues: values.enumerated().map { ("c\($0.offset)", $0.element) }))
        let hostile = BatchAudit(
            batchID: 7, kind: .compensation, compensates: 3, reason: text, items: [text, ""],
            intentPosition: 12, time: "2025-10-13T06:00:00.000Z",
            run: BatchAudit.Run(
                runID: 1, time: "t", command: "ingest", source: nil, congress: 119, lookbackDays: nil,
                batchSize: 50, atomic: true),
            outcome: BatchAudit.Outcome(
                result: .failed, reason: text, recovered: true, position: 13, time: "t",
                durationMilliseconds: 0.1, stateChecksum: nil),
            checksumBefore: nil, checksumAfter: "00ff",
            mutations: [
                BatchAudit.MutationRecord(
                    number: 1, operation: .update, table: "hearings",
                    key: RowImage(["hearing_id": .integer(1)]),
                    naturalKey: image, label: text,
                    changes: values.map { BatchAudit.FieldChange(field: text, before: $0, after: nil) }
                        + values.map { BatchAudit.FieldChange(field: "f", before: nil, after: $0) }
                        + [BatchAudit.FieldChange(field: "none", before: nil, after: nil)]),
                BatchAudit.MutationRecord(
                    number: 2, operation: .insert, table: "t", key: RowImage([:]), naturalKey: RowImage([:]),
                    label: "", changes: []),
            ],
            rejected: [BatchAudit.RejectedItem(item: text, field: "f", problem: "p")],
            compensations: [
                BatchAudit.Compensation(
                    batchID: 9, position: 20, time: "t", reason: nil, result: nil, undoneBy: 10)
            ],
            revertedBy: nil,
            laterBatches: [
                BatchAudit.LaterBatch(
                    batchID: 9, position: 20, time: "t", kind: .ingest, compensates: nil, result: .committed,
                    rows: [BatchAudit.RowReference(table: "t", key: image, label: text)]),
                BatchAudit.LaterBatch(
                    batchID: 10, position: 22, time: "t", kind: .ingest, compensates: nil, result: nil,
                    rows: []),
            ])
        #expect(hostile.json == (try jsonText(hostile)))
        var bare = hostile
        bare.kind = nil
        bare.run = nil
        bare.outcome = nil
        bare.mutations = []
        bare.laterBatches = []
        bare.compensations = []
        bare.outcome = BatchAudit.Outcome(
            result: .committed, reason: nil, recovered: false, position: 1, time: "t",
            durationMilliseconds: nil,
            stateChecksum: "s")
        #expect(bare.json == (try jsonText(bare)))
    }

    @Test func auditWorksWithTheDatabaseRemoved() throws {
        let (home, _, _) = try twoDays()
        _ = try revertBatch(home, 9)
        let audits = try (1...11).map { try #require(try auditBatch(home, Int64($0))) }
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: home.databasePath + suffix)
        }
        #expect(!FileManager.default.fileExists(atPath: home.databasePath))
        let again = try (1...11).map { try #require(try auditBatch(home, Int64($0))) }
        #expect(again == audits)
        #expect(again[8].revertedBy == 11)
        #expect(again[10].compensates == 9)
        #expect(!FileManager.default.fileExists(atPath: home.databasePath), "audit created no database")
        // Every parent reference was resolved from the journal: no natural key falls back to a row id.
        for audit in again {
            for mutation in audit.mutations {
                let references = Set(NaturalKeys.parents.filter { $0.value.name != mutation.table }.keys)
                #expect(
                    references.isDisjoint(with: mutation.naturalKey.columns.keys),
                    "batch \(audit.batchID): \(mutation.table) \(mutation.naturalKey)")
            }
        }
    }

    /// Audit looks up later batches through a second handle on the journal; a run appending after the
    /// caller opened its handle must not show up in that caller's audit.
    @Test func auditShowsOnlyTheEventsItsHandleKnows() throws {
        let home = try temporaryHome()
        _ = try ingestFixed(home, .sample(day: 1))
        let early = try Journal.open(JournalConfiguration(directory: home.journalDirectory), mode: .readOnly)
        defer { try? early.close() }
        let before = try (1...7).map { try #require(try Audit.batch(Int64($0), in: early)) }
        _ = try ingestFixed(home, .sample(day: 2))
        let fresh = try (1...7).map { try #require(try auditBatch(home, Int64($0))) }
        // Day 2 changed rows of day 1: a fresh handle sees it.
        #expect(fresh.contains { audit in audit.laterBatches.contains { $0.batchID >= 8 } })
        let after = try (1...7).map { try #require(try Audit.batch(Int64($0), in: early)) }
        #expect(after.map { $0.laterBatches.map(\.batchID) } == before.map { $0.laterBatches.map(\.batchID) })
        #expect(after.allSatisfy { audit in audit.laterBatches.allSatisfy { $0.batchID < 8 } })
    }

    /// The second handle opens the journal folder again: if the folder no longer holds the caller's
    /// journal (here it was moved away after the caller opened it), the audit fails rather than
    /// answering without the later batches.
    @Test func auditFailsWhenTheFolderNoLongerHoldsTheCallersJournal() throws {
        let (home, _, _) = try twoDays()
        let early = try Journal.open(JournalConfiguration(directory: home.journalDirectory), mode: .readOnly)
        defer { try? early.close() }
        let before = try #require(try Audit.batch(3, in: early))
        #expect(!before.laterBatches.isEmpty, "day 2 changed rows of batch 3")
        // The caller's handle keeps its open files; the folder it came from is gone.
        try FileManager.default.moveItem(
            atPath: home.journalDirectory, toPath: home.journalDirectory + "-moved")
        let error = #expect(throws: JournalError.self) { try Audit.batch(3, in: early) }
        #expect(error?.message.contains("no longer holds the events") == true)
    }

    @Test func intentReaderAgreesWithJSONDecoder() throws {
        let home = try temporaryHome()
        _ = try ingestFixed(home, .sample(day: 1))
        _ = try ingestFixed(home, .sample(day: 2))
        var tricky = RowImage(["id": 1, "text": "quote \" backslash \\ tab \t newline \n é 🇺🇸 \u{1}"])
        tricky["real"] = .real(-1.5e-7)
        tricky["blob"] = .blob([0, 1, 0xfe, 0xff])
        tricky["null"] = .null
        tricky["negative"] = .integer(Int64.min)
        tricky["large"] = .integer(Int64.max)
        let synthetic = BatchIntent(
            batchID: 99, runID: 1, kind: .compensation, compensates: 98, reason: "revert \"quoted\"",
            items: ["a", "b/c"],
            mutations: [
                Mutation(kind: .insert, table: Schema.committees, before: nil, after: tricky),
                Mutation(kind: .delete, table: Schema.committees, before: tricky, after: nil),
            ], checksumBefore: "0", checksumAfter: "1")
        var lines = try events(home, type: EventType.batchIntent).map(\.line)
        let encoded = try JournalEvent(type: EventType.batchIntent, fields: synthetic)
        lines.append(
            Array("{\"position\":1,\"time\":\"t\",\"type\":\"batch_intent\",".utf8) + encoded.body.dropFirst()
        )
        #expect(lines.count == 11)
        for line in lines {
            let expected = try JSONDecoder().decode(BatchIntent.self, from: Data(line))
            #expect(try EventLineReader.intent(line) == expected)
            // Keeping only some rows gives exactly those mutations, images included.
            var hearings = RowSet()
            for mutation in expected.mutations where mutation.table == "hearings" {
                hearings.insert(table: mutation.table, key: mutation.key)
            }
            let kept = try EventLineReader.intent(line, keeping: hearings)
            #expect(kept.mutations == expected.mutations.filter { $0.table == "hearings" })
            #expect(kept.items == expected.items)
            let head = try EventLineReader.head(line)
            #expect(head.batchID == expected.batchID)
            #expect(head.mutationCount == expected.mutations.count)
            #expect(head.itemCount == expected.items.count)
            #expect(head.compensates == expected.compensates)
        }
        #expect(throws: (any Error).self) { try EventLineReader.intent(Array("{\"batch_id\":1,".utf8)) }
        // The other events log and audit read by hand.
        for entry in try events(home, type: EventType.batchOutcome) {
            #expect(try EventLineReader.outcome(entry.line) == (try entry.decode(BatchOutcome.self)))
        }
        for entry in try events(home, type: EventType.runStarted) {
            #expect(try EventLineReader.runStarted(entry.line) == (try entry.decode(RunStarted.self)))
        }
        for entry in try events(home, type: EventType.runFinished) {
            let expected = try entry.decode(RunFinished.self)
            let finished = try EventLineReader.runFinished(entry.line)
            #expect(finished.runID == expected.runID)
            #expect(finished.status == expected.status)
            #expect(finished.counts?.hearingsAdded == expected.metrics?.hearingsAdded)
            #expect(finished.counts?.mutations == expected.metrics?.mutations)
            #expect(finished.counts?.errorCount == expected.metrics?.errorCount)
        }
    }

    // MARK: The command-line tool

    @Test func commandLineRevertConflictExitsFiveAndAuditJSONParses() throws {
        let executable = try #require(
            hearingsExecutable(), "the hearings executable must be built next to the tests (swift build)")
        let (home, _, _) = try twoDays()
        _ = try retitle(home, eventID: "118603", to: "Retitled by hand")
        let rows = try managedRows(try Store(path: home.databasePath))

        let refused = try runHearings(executable, ["revert", "10", "--home", home.path])
        #expect(refused.status == 5)
        #expect(refused.stderr.contains("batch 10 cannot be reverted"), "\(refused.stderr)")
        #expect(refused.stderr.contains("hearings 118603"), "\(refused.stderr)")
        let refusedJSON = try runHearings(
            executable, ["revert", "10", "--home", home.path, "--format", "json"])
        #expect(refusedJSON.status == 5)
        let refusal = try #require(
            try JSONSerialization.jsonObject(with: Data(refusedJSON.stdout.utf8)) as? [String: Any])
        #expect(refusal["reverted"] as? Bool == false)
        let conflicts = try #require(refusal["conflicts"] as? [[String: Any]])
        #expect(conflicts.first?["field"] as? String == "title")
        #expect(
            try managedRows(try Store(path: home.databasePath)) == rows, "the refused revert changed nothing")

        let reverted = try runHearings(executable, ["revert", "9", "--home", home.path, "--format", "json"])
        #expect(reverted.status == 0, "\(reverted.stderr)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(reverted.stdout.utf8)) as? [String: Any])
        #expect(report["compensation_batch_id"] as? Int == 12)

        try FileManager.default.removeItem(atPath: home.databasePath)
        let audit = try runHearings(executable, ["audit", "9", "--home", home.path, "--format", "json"])
        #expect(audit.status == 0, "\(audit.stderr)")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any])
        #expect(document["batch_id"] as? Int == 9)
        #expect(document["reverted_by"] as? Int == 12)
        #expect((document["mutations"] as? [Any])?.count == 202)
        let text = try runHearings(executable, ["audit", "9", "--home", home.path])
        #expect(text.status == 0)
        #expect(text.stdout.hasPrefix("batch 9: ingest, committed\n"), "\(text.stdout.prefix(200))")
        let missing = try runHearings(executable, ["audit", "99", "--home", home.path])
        #expect(missing.status == 1)
        let log = try runHearings(executable, ["log", "--home", home.path])
        #expect(log.status == 0)
        #expect(log.stdout.contains("compensation of batch 9 (revert)"), "\(log.stdout)")
        let logJSON = try runHearings(
            executable, ["log", "--home", home.path, "--format", "json", "--limit", "1"])
        let logDocument = try #require(
            try JSONSerialization.jsonObject(with: Data(logJSON.stdout.utf8)) as? [String: Any])
        #expect((logDocument["runs"] as? [Any])?.count == 1)
        #expect(logDocument["total_runs"] as? Int == 4)
    }
}

@Suite struct AuditBenchmarkTests {
    @Test func handWrittenIntentEncodingIsJSONEncoders() throws {
        let home = try temporaryHome()
        _ = try ingestFixed(home, .sample(day: 1))
        _ = try ingestFixed(home, .sample(day: 2))
        var intents = try events(home, type: EventType.batchIntent).map { try $0.decode(BatchIntent.self) }
        var odd = RowImage([
            "committee_id": 7,
            "name":
                "quote \" backslash \\ a/b tab \t line \n return \r bell \u{7} \u{8}\u{c}\u{1f}\u{7f} é 😀 \u{2028}",
        ])
        odd["url"] = .null
        odd["is_current"] = .real(0.1)
        odd["congress"] = .blob([0, 1, 0xfe])
        // A whole committee row (every column: the encoder's fast path) holding a real, a blob and odd text.
        let whole = try #require(
            intents.lazy.flatMap(\.mutations).first { $0.table == "committees" && $0.after != nil }?.after)
        #expect(whole.columns.count == Schema.committees.columns.count)
        var mixed = whole
        mixed["is_current"] = .real(0.5)
        mixed["congress"] = .blob([9, 0xab])
        mixed["name"] = odd["name"]
        intents.append(
            BatchIntent(
                batchID: 13, runID: 3, kind: .ingest, compensates: nil, reason: nil, items: [],
                mutations: [Mutation(kind: .update, table: Schema.committees, before: whole, after: mixed)],
                checksumBefore: "c", checksumAfter: "d"))
        intents.append(
            BatchIntent(
                batchID: 12, runID: 3, kind: .compensation, compensates: 11, reason: "revert",
                items: ["x\"y"],
                mutations: [
                    Mutation(kind: .insert, table: Schema.committees, before: nil, after: odd),
                    Mutation(kind: .update, table: Schema.committees, before: odd, after: odd),
                    Mutation(kind: .delete, table: Schema.committees, before: odd, after: nil),
                ], checksumBefore: "a", checksumAfter: "b"))
        for intent in intents {
            let expected = try JournalEvent(type: EventType.batchIntent, fields: intent).body
            #expect(intent.journalBody() == expected, "batch \(intent.batchID)")
        }
    }

    @Test func benchmarkRunsOnASmallJournal() throws {
        var lines: [String] = []
        let result = try AuditBenchmark.run(events: 3_000, samples: 20) { lines.append($0) }
        #expect(result.events >= 3_000)
        #expect(result.batches > 100)
        #expect(lines.count >= 3)
    }
}

@Suite struct JournalLookupTests {
    /// Audit relies on `positions(withKey:)` and `entry(at:)` over the index file (searched by
    /// interpolation, see `JournalIndex.lowerBound`): every key and every position must be found.
    @Test func everyKeyAndPositionIsFoundThroughTheIndexFile() throws {
        let home = try temporaryHome()
        let configuration = JournalConfiguration(directory: home.journalDirectory)
        var expected: [String: [UInt64]] = [:]
        do {
            let journal = try Journal.open(configuration)
            var position: UInt64 = 1
            for record in 0..<6_000 {
                var batch: [JournalEvent] = []
                for _ in 0..<(1 + record % 4) {
                    let keys = ["k:\(position)", "s:\(position % 97)", "row:hearings:\(position / 3)"]
                    for key in keys { expected[key, default: []].append(position) }
                    batch.append(
                        JournalEvent(type: "test", body: Array("{\"n\":\(position)}".utf8), keys: keys))
                    position += 1
                }
                _ = try journal.appendDeferred(batch)
            }
            try journal.close()
        }
        let journal = try Journal.open(configuration, mode: .readOnly)
        #expect(!journal.openReport.indexRebuilt, "the lookups below go through the index file")
        for (key, positions) in expected {
            #expect(try journal.positions(withKey: key) == positions, "\(key)")
        }
        #expect(try journal.positions(withKey: "k:0").isEmpty)
        #expect(try journal.positions(withKey: "absent").isEmpty)
        for position in stride(from: UInt64(1), to: journal.nextPosition, by: 7) {
            #expect(try journal.entry(at: position)?.position == position)
        }
        #expect(try journal.entry(at: journal.nextPosition) == nil)
    }
}
