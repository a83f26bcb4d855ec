import Foundation
import GRDB
import Journal
import Store
import Testing

@testable import Updater

/// Rebuild's replay path (`IntentReplayer`, which applies intents straight from their lines) must leave
/// exactly the database the general path leaves (`EventLineReader.intent`, then `Store.apply`), and
/// fail where and as it fails.
@Suite struct IntentReplayTests {
    /// Empty databases: one for the general path, one for the replay validating each string, one for
    /// the replay told whether the whole line is valid UTF-8 (as rebuild's read-ahead tells it).
    private struct Pair {
        let general: Store
        let replay: Store
        let replayOfCheckedLines: Store

        init() throws {
            let home = try temporaryHome()
            general = try Store(path: home.path + "/general.sqlite")
            replay = try Store(path: home.path + "/replay.sqlite")
            replayOfCheckedLines = try Store(path: home.path + "/replay-checked.sqlite")
        }

        /// Applies `line` by both paths, each in its own transaction, and checks that both leave the
        /// same rows, or fail alike (rolled back) with the same description.
        /// - Parameter general: how many mutations must take the general path (nil: any number).
        @discardableResult
        func apply(
            _ line: [UInt8], batchID: Int64? = nil, general expected: Int? = 0,
            sourceLocation: SourceLocation = #_sourceLocation
        ) throws -> String? {
            var generalError: String?
            var replayError: String?
            do {
                try general.queue.write { db in
                    let intent = try EventLineReader.intent(line)
                    try Store.apply(intent.mutations, db)
                }
            } catch {
                generalError = String(describing: error)
            }
            let batch = batchID ?? (try? EventLineReader.head(line).batchID ?? 0) ?? 0
            let lineIsValid = line.withUnsafeBufferPointer(isValidUTF8)
            for (store, valid) in [(replay, false), (replayOfCheckedLines, lineIsValid)] {
                do {
                    try store.queue.write { db in
                        let replayed = try IntentReplayer(db).replay(
                            line, batchID: batch, lineIsValidUTF8: valid, db)
                        #expect(replayed.batchID == batch, sourceLocation: sourceLocation)
                        if let expected {
                            #expect(replayed.general == expected, sourceLocation: sourceLocation)
                        }
                    }
                    #expect(generalError == nil, sourceLocation: sourceLocation)
                } catch {
                    replayError = String(describing: error)
                    #expect(replayError == generalError, sourceLocation: sourceLocation)
                }
                #expect(try managedRows(store) == managedRows(general), sourceLocation: sourceLocation)
                let checksums = try [store, general].map { store in
                    try store.queue.read(StateChecksum.compute)
                }
                #expect(checksums[0] == checksums[1], sourceLocation: sourceLocation)
            }
            return replayError
        }

        /// The name of committee `id` in the replayed database (read as bytes: a NUL ends a C string).
        func name(_ id: Int64) throws -> String? {
            try replay.queue.read { db in
                try Data.fetchOne(
                    db, sql: "SELECT CAST(name AS BLOB) FROM committees WHERE committee_id = ?",
                    arguments: [id]
                ).map { String(decoding: $0, as: UTF8.self) }
            }
        }
    }

    /// An intent line of batch `batch` holding `mutations` (JSON text), names sorted as the journal
    /// writes them.
    private func line(_ batch: Int64 = 1, _ mutations: [String]) -> [UInt8] {
        Array(
            (#"{"position":1,"time":"t","type":"batch_intent","batch_id":\#(batch),"checksum_after":"1","#
                + #""checksum_before":"0","items":["x"],"kind":"ingest","mutations":["#
                + mutations.joined(separator: ",") + #"],"run_id":1}"#).utf8)
    }

    /// A committee row image (JSON text) whose name is `name`, as JSON string content.
    private func committee(_ id: Int64, name: String, url: String = "null", congress: String = "119")
        -> String
    {
        #"{"chamber":"House","committee_id":\#(id),"congress":\#(congress),"created_at":"2025-10-01 20:06:23","#
            + #""is_current":1,"name":"\#(name)","parent_committee_id":null,"system_code":"c\#(id)","#
            + #""type":"Standing","updated_at":"2025-10-01 20:06:23","url":\#(url)}"#
    }

    private func insert(_ image: String, key: Int64) -> String {
        #"{"after":\#(image),"key":{"committee_id":\#(key)},"kind":"insert","table":"committees"}"#
    }

    private func update(_ before: String, _ after: String, key: Int64) -> String {
        #"{"after":\#(after),"before":\#(before),"key":{"committee_id":\#(key)},"kind":"update","table":"committees"}"#
    }

    private func delete(_ before: String, key: Int64) -> String {
        #"{"after":null,"before":\#(before),"key":{"committee_id":\#(key)},"kind":"delete","table":"committees"}"#
    }

    /// Every intent of two days of sample ingest and of a revert (inserts, updates, deletes of every
    /// table) replays to the same database as the general path gives, intent after intent.
    @Test func realIntentsReplayAsTheGeneralPathApplies() throws {
        let home = try temporaryHome()
        _ = try ingest(home) { $0.source = .sample(day: 1) }
        _ = try ingest(home) { $0.source = .sample(day: 2) }
        // Reverting the last batch journals a compensation: the inverse of its mutations.
        let last = try #require(try events(home, type: EventType.batchIntent).last)
        let session = try Session(home: home, command: "revert")
        _ = try session.revert(batch: try #require(try EventLineReader.head(last.line).batchID))
        try session.close()
        let pair = try Pair()
        var kinds = Set<Mutation.Kind>()
        let lines = try events(home, type: EventType.batchIntent).map(\.line)
        for line in lines {
            kinds.formUnion(try EventLineReader.intent(line).mutations.map(\.kind))
            #expect(try pair.apply(line) == nil)
        }
        #expect(kinds == [.insert, .update, .delete])
        #expect(
            try pair.replay.queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hearings") }
                ?? 0 > 0)
    }

    /// Text with escapes and non-ASCII characters decodes exactly as the general reader decodes it.
    @Test func escapedTextRoundTrips() throws {
        let pair = try Pair()
        let cases: [(json: String, text: String)] = [
            (
                #"quote \" backslash \\ slash \/ tab \t newline \n return \r \b \f"#,
                "quote \" backslash \\ slash / tab \t newline \n return \r \u{8} \u{C}"
            ),
            (#"caf\u00e9"#, "café"),
            ("café ·", "café ·"),
            (#"\ud83c\uddfa\ud83c\uddf8 flag"#, "🇺🇸 flag"),
            ("🇺🇸 flag", "🇺🇸 flag"),
            (#"lone \ud800 surrogate"#, "lone \u{FFFD} surrogate"),
            (#"nul \u0000 inside"#, "nul \u{0} inside"),
            (String(repeating: "long · text ", count: 20), String(repeating: "long · text ", count: 20)),
            ("", ""),
        ]
        for (index, item) in cases.enumerated() {
            let id = Int64(index + 1)
            try pair.apply(line(id, [insert(committee(id, name: item.json), key: id)]))
            #expect(try pair.name(id) == item.text, "\(item.json)")
            // Updated and deleted with that text in the before-image: the guard must match it.
            let renamed = committee(id, name: item.json + " (renamed)")
            try pair.apply(line(id, [update(committee(id, name: item.json), renamed, key: id)]))
            #expect(try pair.name(id) == item.text + " (renamed)", "\(item.json)")
            try pair.apply(line(id, [delete(renamed, key: id)]))
            #expect(try pair.name(id) == nil)
        }
        // Bytes that are not UTF-8: both paths store what `String` repairs them to.
        var invalid = line(50, [insert(committee(50, name: "bad @ byte"), key: 50)])
        let at = try #require(invalid.firstIndex(of: UInt8(ascii: "@")))
        invalid[at] = 0xFF
        try pair.apply(invalid)
        #expect(try pair.name(50) == "bad \u{FFFD} byte")
    }

    /// Mutations of an unusual shape take the general path and give its result.
    @Test func unusualShapesGiveTheGeneralResult() throws {
        let pair = try Pair()
        let first = committee(1, name: "First")
        try pair.apply(line(1, [insert(first, key: 1)]))
        // A tagged real, a missing column (NULL), members out of order.
        try pair.apply(
            line(2, [insert(committee(2, name: "Real", congress: #"{"real":119.0}"#), key: 2)]), general: 1)
        try pair.apply(
            line(
                3,
                [
                    insert(
                        committee(3, name: "No url").replacingOccurrences(of: #","url":null"#, with: ""),
                        key: 3)
                ]), general: 1)
        try pair.apply(
            line(
                4,
                [
                    #"{"table":"committees","kind":"insert","key":{"committee_id":4},"after":\#(committee(4, name: "Order"))}"#
                ]))
        // An escaped member name, an unknown member.
        try pair.apply(
            line(
                5,
                [
                    insert(
                        committee(5, name: "Escaped name").replacingOccurrences(
                            of: #""name""#, with: #""n\u0061me""#), key: 5)
                ]), general: 1)
        try pair.apply(
            line(
                6,
                [
                    #"{"after":\#(committee(6, name: "Extra")),"extra":[1,{"a":"b"}],"key":{"committee_id":6},"kind":"insert","table":"committees"}"#
                ]))
        // An update that changes nothing, one that changes the key, one that changes every column.
        try pair.apply(line(7, [update(first, first, key: 1)]))
        try pair.apply(
            line(8, [update(committee(6, name: "Extra"), committee(16, name: "Moved"), key: 6)]), general: 1)
        try pair.apply(
            line(
                9,
                [
                    update(
                        first, committee(1, name: "Other", url: #""https://example.com""#, congress: "118"),
                        key: 1)
                ]))
        // Several mutations of one row in one intent.
        let a = committee(20, name: "A")
        let b = committee(20, name: "B")
        try pair.apply(
            line(10, [insert(a, key: 20), update(a, b, key: 20), delete(b, key: 20), insert(a, key: 20)]))
    }

    /// A mutation whose row is not what it expects fails with the general path's conflict, and the
    /// intent applies nothing.
    @Test func conflictsAreTheGeneralPathsConflicts() throws {
        let pair = try Pair()
        let first = committee(1, name: "First")
        try pair.apply(line(1, [insert(first, key: 1)]))
        let stale = committee(1, name: "Stale")
        let second = committee(2, name: "Second")
        let conflicts = [
            line(2, [insert(second, key: 2), update(stale, committee(1, name: "New"), key: 1)]),
            line(3, [delete(stale, key: 1)]),
            line(4, [insert(first, key: 1)]),
            line(5, [update(committee(9, name: "Missing"), committee(9, name: "Gone"), key: 9)]),
        ]
        for conflict in conflicts {
            let error = try pair.apply(conflict)
            #expect(error?.contains("conflict") == true, "\(error ?? "no error")")
        }
        #expect(try pair.name(2) == nil)
        #expect(try pair.name(1) == "First")
    }

    /// A malformed line is refused with the byte offset and the problem, as the general reader says.
    @Test func malformedLinesAreRefused() throws {
        let pair = try Pair()
        let good = line(1, [insert(committee(1, name: "First"), key: 1)])
        let malformed: [[UInt8]] = [
            Array(good.prefix(good.count - 30)),
            Array(
                String(decoding: good, as: UTF8.self).replacingOccurrences(of: "First", with: #"Fi\qrst"#)
                    .utf8),
            Array(
                String(decoding: good, as: UTF8.self).replacingOccurrences(
                    of: #""is_current":1"#, with: #""is_current":1x"#
                ).utf8),
            Array(
                String(decoding: good, as: UTF8.self).replacingOccurrences(
                    of: #""kind":"insert""#, with: #""kind":"upsert""#
                ).utf8),
            Array(
                String(decoding: good, as: UTF8.self).replacingOccurrences(
                    of: #""run_id":1"#, with: #""run":1"#
                ).utf8),
        ]
        for line in malformed {
            let error = try pair.apply(line, batchID: 1)
            #expect(error != nil)
        }
        #expect(try pair.name(1) == nil)
        let error = #expect(throws: EventLineReader.Failure.self) {
            try pair.replay.queue.write { db in
                _ = try IntentReplayer(db).replay(malformed[1], batchID: 1, db)
            }
        }
        #expect(error?.description.hasPrefix("malformed event line at byte ") == true)
        #expect(error?.problem == "unknown escape")
        // Another batch's line than the one planned.
        #expect(throws: IntentReplayer.OtherBatch.self) {
            try pair.replay.queue.write { db in _ = try IntentReplayer(db).replay(good, batchID: 2, db) }
        }
    }
}

/// Rebuild's read-ahead of the journal gives the events `Journal.read` gives, in order, and passes on
/// a failure to read.
@Suite struct JournalPrefetchTests {
    @Test func readsEveryEventInOrderAndStops() throws {
        let home = try temporaryHome()
        _ = try ingest(home) { $0.source = .sample(day: 1) }
        let journal = try Journal.open(
            JournalConfiguration(directory: home.journalDirectory), mode: .readOnly)
        var expected: [UInt64] = []
        try journal.read { entry in
            expected.append(entry.position)
            return true
        }
        #expect(expected.count > 10)
        let all = JournalPrefetch(
            directory: home.journalDirectory, from: 1, through: journal.nextPosition - 1, capacity: 2)
        var read: [UInt64] = []
        while let event = try all.next() {
            #expect(event.entry.line == (try journal.entry(at: event.entry.position))?.line)
            #expect(event.isValidUTF8)
            read.append(event.entry.position)
        }
        all.stop()
        #expect(read == expected)
        // Stopped early, while the reader waits for room: `stop` ends it.
        let some = JournalPrefetch(
            directory: home.journalDirectory, from: 3, through: journal.nextPosition - 1, capacity: 1)
        #expect(try some.next()?.entry.position == 3)
        some.stop()
        // A damaged segment: the events before the damage come out, then the failure.
        let damaged = home.path + "/damaged-journal"
        try FileManager.default.copyItem(atPath: home.journalDirectory, toPath: damaged)
        let segment = try #require(
            try FileManager.default.contentsOfDirectory(atPath: damaged).filter { $0.hasSuffix(".lz4") }
                .sorted()
                .first)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: damaged + "/" + segment))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: damaged + "/" + segment))
        let broken = JournalPrefetch(directory: damaged, from: 1, through: journal.nextPosition - 1)
        var before = 0
        #expect(throws: JournalError.self) {
            while try broken.next() != nil { before += 1 }
        }
        #expect(before < expected.count)
        broken.stop()
    }
}
