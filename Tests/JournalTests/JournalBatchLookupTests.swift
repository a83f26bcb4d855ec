import FaultInjection
import Foundation
import Journal
import Testing

/// The lookups in bulk that audit relies on: many keys in one pass over the index's key table, many
/// events in one pass over its record table. They must answer exactly what the lookups one at a time
/// answer, from the index file, from records appended since it was written, and after the index file
/// is found damaged.
@Suite struct JournalBatchLookupTests {
    /// A journal of 3,000 indexed records (1 to 4 events each, in segments of 64 KiB) and 150 records
    /// appended after the index was written; every event has a key of its own, one shared with a
    /// ninety-seventh of the events, and one shared with its two neighbours.
    private func makeJournal(_ fileSystem: SimulatedFileSystem) throws -> (
        configuration: JournalConfiguration, keys: [String: [UInt64]]
    ) {
        let configuration = simulatedConfiguration(fileSystem, segmentSizeLimit: 64 << 10)
        var expected: [String: [UInt64]] = [:]
        var position: UInt64 = 1
        func records(_ count: Int, to journal: Journal) throws {
            for record in 0..<count {
                var events: [JournalEvent] = []
                for _ in 0..<(1 + record % 4) {
                    let keys = ["k:\(position)", "s:\(position % 97)", "row:hearings:\(position / 3)"]
                    for key in keys { expected[key, default: []].append(position) }
                    events.append(
                        JournalEvent(type: "test", body: Array("{\"n\":\(position)}".utf8), keys: keys))
                    position += 1
                }
                _ = try journal.appendDeferred(events)
            }
        }
        let writer = try Journal.open(configuration)
        try records(3_000, to: writer)
        try writer.close()
        // Synced but not closed: the index file does not cover these records.
        let appender = try Journal.open(configuration)
        try records(150, to: appender)
        try appender.sync()
        return (configuration, expected)
    }

    @Test func manyKeysAnswerAsEachKeyAlone() throws {
        let fileSystem = SimulatedFileSystem()
        let (configuration, expected) = try makeJournal(fileSystem)
        let journal = try Journal.open(configuration, mode: .readOnly)
        #expect(!journal.openReport.indexRebuilt, "the keys below are looked up in the index file")
        #expect(journal.openReport.recordsScanned == 150)
        var generator = SplitMix64(seed: 3)
        var keys = Array(expected.keys).shuffled(using: &generator).prefix(2_000) + ["absent", "k:0"]
        keys += keys.prefix(10)  // asked twice
        let found = try journal.positions(withKeys: Array(keys))
        #expect(found.count == keys.count)
        for (key, positions) in zip(keys, found) {
            #expect(positions == (expected[key] ?? []), "\(key)")
            #expect(positions == (try journal.positions(withKey: key)), "\(key)")
        }
        #expect(try journal.positions(withKeys: []).isEmpty)
    }

    @Test func manyKeysAreFoundAfterTheIndexFileIsDamaged() throws {
        let fileSystem = SimulatedFileSystem()
        let (configuration, expected) = try makeJournal(fileSystem)
        let indexPath = "/data/journal/.index"
        var damaged = try #require(fileSystem.contents(of: indexPath))
        // A byte of the key table (the end of the file is the chunk checks, before them the keys).
        damaged[damaged.count - 4_000] ^= 0xff
        fileSystem.replaceContents(of: indexPath, with: damaged)
        let journal = try Journal.open(configuration, mode: .readOnly)
        let keys = Array(expected.keys).sorted()
        let found = try journal.positions(withKeys: keys)
        for (key, positions) in zip(keys, found) { #expect(positions == expected[key], "\(key)") }
        #expect(journal.openReport.indexRebuilt)
    }

    @Test func manyEventsAnswerAsEachEventAlone() throws {
        let fileSystem = SimulatedFileSystem()
        let (configuration, _) = try makeJournal(fileSystem)
        let journal = try Journal.open(configuration, mode: .readOnly)
        let last = journal.nextPosition - 1
        var generator = SplitMix64(seed: 11)
        var positions = (0..<800).map { _ in UInt64.random(in: 1...last, using: &generator) }
        positions += [0, last, last + 1, last + 50] + positions.prefix(5)
        let entries = try journal.entries(at: positions)
        let expected = Set(positions).filter { $0 >= 1 && $0 <= last }.sorted()
        #expect(entries.map(\.position) == expected)
        for entry in entries { #expect(entry.line == (try journal.entry(at: entry.position))?.line) }
        #expect(try journal.entries(at: []).isEmpty)
        #expect(try journal.entries(at: [last + 1]).isEmpty)
    }

    /// Every position of the journal and its event's line, read in one call by a fresh handle.
    private func allEvents(_ configuration: JournalConfiguration) throws -> (
        positions: [UInt64], lines: [[UInt8]]
    ) {
        let reference = try Journal.open(configuration, mode: .readOnly)
        defer { try? reference.close() }
        let positions = Array(1...(reference.nextPosition - 1))
        return (positions, try reference.entries(at: positions).map(\.line))
    }

    /// The events at `positions` as `entries(at:_:)` hands them over, one at a time, in order.
    private func streamed(_ journal: Journal, _ positions: [UInt64]) throws -> (
        positions: [UInt64], lines: [[UInt8]]
    ) {
        var delivered: [UInt64] = []
        var lines: [[UInt8]] = []
        try journal.entries(at: positions) { entry in
            delivered.append(entry.position)
            lines.append(entry.line)
        }
        return (delivered, lines)
    }

    @Test func eventsHandedOverOneAtATimeComeOnceEachWhenTheIndexIsRepairedDuringTheCall() throws {
        let fileSystem = SimulatedFileSystem()
        let (configuration, _) = try makeJournal(fileSystem)
        let (positions, expected) = try allEvents(configuration)
        #expect(expected.count == positions.count)
        let indexPath = "/data/journal/.index"
        let intact = try #require(fileSystem.contents(of: indexPath))
        var repairedMidRead = 0
        // A damaged byte at offsets across the file: some are found when the journal opens, some only
        // when a read reaches the damaged part of the record table.
        for step in 1..<40 {
            var damaged = intact
            damaged[damaged.count * step / 40] ^= 0xff
            fileSystem.replaceContents(of: indexPath, with: damaged)
            let journal = try Journal.open(configuration, mode: .readOnly)
            let rebuiltAtOpen = journal.openReport.indexRebuilt
            let (delivered, lines) = try streamed(journal, positions)
            #expect(delivered == positions, "damage at step \(step)")
            #expect(lines == expected, "damage at step \(step)")
            if !rebuiltAtOpen && journal.openReport.indexRebuilt { repairedMidRead += 1 }
        }
        fileSystem.replaceContents(of: indexPath, with: intact)
        // The test means something only if some damage was found by the call, not when opening.
        #expect(repairedMidRead > 0)
    }

    /// An index whose chunk checks hold but one of whose record entries names the wrong record (as a
    /// bug in a writer could leave it) is found out only when a read reaches that record, after the
    /// events before it were handed over: the rebuilt index's second pass must not hand them over again.
    @Test func eventsHandedOverBeforeAWrongEntryIsFoundComeOnceEach() throws {
        let fileSystem = SimulatedFileSystem()
        let (configuration, _) = try makeJournal(fileSystem)
        let (positions, expected) = try allEvents(configuration)
        let indexPath = "/data/journal/.index"
        var index = try #require(fileSystem.contents(of: indexPath))
        func u64(_ offset: Int) -> Int { (0..<8).reduce(0) { $0 | Int(index[offset + $1]) << (8 * $1) } }
        let layout = IndexFileLayout(index)
        let (records, recordsBase, checksBase) = (layout.records, layout.recordsBase, layout.checksBase)
        // Entry `middle` takes the offset and length of the entry after it, in the same segment: the
        // record found there starts at another position. Its chunk's check is computed again.
        let middle = records / 2
        let entry = recordsBase + 32 * middle
        #expect(u64(entry + 8) == u64(entry + 32 + 8), "both records in one segment")
        index.replaceSubrange((entry + 16)..<(entry + 28), with: index[(entry + 48)..<(entry + 60)])
        let chunk = middle * 32 / 4096
        let chunkStart = recordsBase + chunk * 4096
        let chunkBytes = Array(index[chunkStart..<min(chunkStart + 4096, recordsBase + 32 * records)])
        index.replaceSubrange(
            (checksBase + 8 * chunk)..<(checksBase + 8 * chunk + 8),
            with: SHA256Digest.of(chunkBytes).bytes.prefix(8))
        fileSystem.replaceContents(of: indexPath, with: index)

        let journal = try Journal.open(configuration, mode: .readOnly)
        #expect(!journal.openReport.indexRebuilt, "the checks hold: opening trusts the index")
        let (delivered, lines) = try streamed(journal, positions)
        #expect(journal.openReport.indexRebuilt, "the wrong entry was found during the call")
        #expect(delivered == positions)
        #expect(lines == expected)
    }

    @Test func nearbyEventsComeOnlyWithTheBytesAlreadyRead() throws {
        let fileSystem = SimulatedFileSystem()
        let (configuration, _) = try makeJournal(fileSystem)
        let journal = try Journal.open(configuration, mode: .readOnly)
        let last = journal.nextPosition - 1
        let required: [UInt64] = stride(from: 5, to: last - 10, by: 211).map { $0 }
        // The event after each (in the same record or the next one, both small), one far away, and
        // positions that do not exist: none of them may fail the call.
        let nearby = required.map { $0 + 1 } + [last, last + 1, 0]
        let entries = try journal.entries(at: required, nearby: nearby)
        let returned = Set(entries.map(\.position))
        #expect(returned.isSuperset(of: required))
        #expect(returned.isSubset(of: Set(required + nearby)))
        #expect(!returned.contains(last), "a record far from every one read needs a read of its own")
        #expect(required.allSatisfy { returned.contains($0 + 1) }, "small records follow in the same read")
        for entry in entries { #expect(entry.line == (try journal.entry(at: entry.position))?.line) }
        #expect(try journal.entries(at: [], nearby: [5]).isEmpty)
    }
}
