import FaultInjection
import Foundation
import Journal
import Testing

/// A journal of `records` durable records in one segment, with the segment's size after each append.
private struct Fixture {
    let fileSystem = SimulatedFileSystem()
    let configuration: JournalConfiguration
    let segment = "/data/journal/00000000000000000001.lz4"
    var boundaries: [Int] = []
    var lines: [String] = []
    var recordSizes: [Int] = []

    init(records: Int, eventsPerRecord: Int = 2, seed: UInt64 = 1) throws {
        configuration = simulatedConfiguration(fileSystem)
        var generator = SplitMix64(seed: seed)
        let journal = try Journal.open(configuration)
        boundaries.append(fileSystem.contents(of: segment)?.count ?? 0)
        var lineCounts: [Int] = []
        for batch in 1...records {
            try journal.append(
                try (0..<eventsPerRecord).map { _ in try randomEvent(&generator, batch: batch) })
            boundaries.append(fileSystem.contents(of: segment)?.count ?? 0)
            lineCounts.append(eventsPerRecord)
        }
        try journal.close()
        lines = try allLines(try Journal.open(configuration, mode: .readOnly))
        try fileSystem.removeFile("/data/journal/.index")
    }

    /// A copy of the file system with the segment's bytes replaced.
    func copy(withSegment bytes: [UInt8]) -> SimulatedFileSystem {
        let copy = fileSystem.crashImage(directoryChangesKept: true) { _ in .kept }
        copy.replaceContents(of: segment, with: bytes)
        return copy
    }

    var bytes: [UInt8] { fileSystem.contents(of: segment) ?? [] }
}

@Suite struct JournalDamageTests {
    /// Cutting the file at every byte offset inside the last record (and, with it removed, inside the one
    /// before) loses exactly that record: opening cuts the torn bytes and keeps every complete record.
    @Test(arguments: [1, 2])
    func tornTailAtEveryOffsetIsCutExactly(recordsFromEnd: Int) throws {
        let fixture = try Fixture(records: 5)
        let bytes = fixture.bytes
        let keptRecords = fixture.boundaries.count - 1 - recordsFromEnd
        let start = fixture.boundaries[keptRecords]
        let end = fixture.boundaries[keptRecords + 1]
        for cut in start..<end {
            let fileSystem = fixture.copy(withSegment: Array(bytes[..<cut]))
            let configuration = simulatedConfiguration(fileSystem)
            let journal = try Journal.open(configuration)
            #expect(journal.openReport.tornBytesCut == UInt64(cut - start), "cut at \(cut)")
            #expect(journal.nextPosition == UInt64(keptRecords * 2 + 1))
            #expect(try allLines(journal) == Array(fixture.lines.prefix(keptRecords * 2)))
            #expect(fileSystem.contents(of: fixture.segment)?.count == start)
            // The journal goes on from there, and reopens clean.
            try journal.append([JournalEvent(type: "after", body: Array("{}".utf8))])
            try journal.close()
            let reopened = try Journal.open(configuration)
            #expect(reopened.openReport.tornBytesCut == 0)
            #expect(reopened.nextPosition == UInt64(keptRecords * 2 + 2))
        }
    }

    /// Every single-byte change in a middle record is reported as corruption at that record, both when
    /// opening (no index) and by `verify`; reading through it fails too. It is never accepted.
    @Test func flippedByteInMiddleRecordIsAlwaysDetected() throws {
        let fixture = try Fixture(records: 5)
        let bytes = fixture.bytes
        let start = fixture.boundaries[2]
        let end = fixture.boundaries[3]
        for offset in start..<end {
            var damaged = bytes
            damaged[offset] ^= 0xff
            let fileSystem = fixture.copy(withSegment: damaged)
            let configuration = simulatedConfiguration(fileSystem)
            do {
                _ = try Journal.open(configuration)
                Issue.record("flipped byte at \(offset) was accepted")
            } catch {
                #expect(error.kind == .corrupt)
                #expect(error.segment == "00000000000000000001.lz4")
                #expect(error.offset == UInt64(start), "flip at \(offset): \(error)")
            }
            let verification = try Journal.verify(configuration)
            #expect(!verification.isSound, "verify missed the flip at \(offset)")
            #expect(fileSystem.contents(of: fixture.segment) == damaged, "nothing may be cut or repaired")
        }
    }

    /// With a fresh index, opening checks only what the index does not cover (bounded cost), but the
    /// damage is still never accepted: reading the record fails and `verify` reports it.
    @Test func flipInsideIndexedRecordIsDetectedOnReadAndByVerify() throws {
        let fixture = try Fixture(records: 5)
        try Journal.open(fixture.configuration).close()
        var damaged = fixture.bytes
        damaged[fixture.boundaries[1] + 90] ^= 0x01
        fixture.fileSystem.replaceContents(of: fixture.segment, with: damaged)
        let journal = try Journal.open(fixture.configuration, mode: .readOnly)
        #expect(!journal.openReport.indexRebuilt)
        #expect(throws: JournalError.self) { try allLines(journal) }
        #expect(throws: JournalError.self) { try journal.entry(at: 3) }
        #expect(try journal.entry(at: 1) != nil)
        let verification = try Journal.verify(fixture.configuration)
        #expect(!verification.isSound)
        #expect(verification.problems.first?.contains("byte offset \(fixture.boundaries[1])") == true)
    }

    /// Damage to the record the index names as its last: the index is not used, and since the index
    /// was written after an fdatasync, the damaged bytes were durable: corruption, not a torn tail.
    @Test func damagedCoverageRecordIsCorruption() throws {
        let fixture = try Fixture(records: 5)
        try Journal.open(fixture.configuration).close()
        var damaged = fixture.bytes
        damaged[fixture.boundaries[4] + 100] ^= 0x01
        fixture.fileSystem.replaceContents(of: fixture.segment, with: damaged)
        #expect(throws: JournalError.self) { try Journal.open(fixture.configuration) }
        #expect(fixture.fileSystem.contents(of: fixture.segment) == damaged, "nothing is cut")
    }

    /// Deferred records made durable by `close()`, then damaged: the index (written after that sync)
    /// proves they were durable, so the damage is corruption even though no durable record follows.
    @Test func damageInSyncedDeferredRecordsIsCorruption() throws {
        let fileSystem = SimulatedFileSystem()
        let configuration = simulatedConfiguration(fileSystem)
        let journal = try Journal.open(configuration)
        var generator = SplitMix64(seed: 4)
        for batch in 1...6 { try journal.appendDeferred([try randomEvent(&generator, batch: batch)]) }
        try journal.close()
        let segment = "/data/journal/00000000000000000001.lz4"
        var damaged = try #require(fileSystem.contents(of: segment))
        damaged[damaged.count / 3] ^= 0x04
        fileSystem.replaceContents(of: segment, with: damaged)
        // Opening checks only what the index does not cover (bounded cost); reading and verify see it.
        let reopened = try Journal.open(configuration, mode: .readOnly)
        #expect(throws: JournalError.self) { try allLines(reopened) }
        let verification = try Journal.verify(configuration)
        #expect(!verification.isSound)
        #expect(verification.tornTail == nil)
        // Without the index there is no proof the records were synced: the crash rule applies.
        try fileSystem.removeFile("/data/journal/.index")
        #expect(try Journal.open(configuration).openReport.tornBytesCut > 0)
    }

    /// A damaged index table is detected by its chunk checks when a lookup reads it, and the index is
    /// rebuilt from the segments: lookups still give the right answers.
    @Test func damagedIndexTableIsDetectedAndRebuilt() throws {
        let fileSystem = SimulatedFileSystem()
        let configuration = simulatedConfiguration(fileSystem)
        let journal = try Journal.open(configuration)
        var generator = SplitMix64(seed: 8)
        for batch in 1...400 { try journal.append([try randomEvent(&generator, batch: batch)]) }
        try journal.close()
        let indexPath = "/data/journal/.index"
        let original = try #require(fileSystem.contents(of: indexPath))
        for offset in [200, original.count / 2, original.count - 40] {
            var damaged = original
            damaged[offset] = damaged[offset] == 0 ? 1 : 0
            fileSystem.replaceContents(of: indexPath, with: damaged)
            let reader = try Journal.open(configuration, mode: .readOnly)
            let found = try reader.entries(withKey: "batch:350")
            #expect(found.map(\.position) == [350], "damage at index byte \(offset)")
            #expect(try reader.entry(at: 123)?.position == 123)
        }
        // Deleting the segments leaves no stale index behind.
        for name in try fileSystem.contentsOfDirectory("/data/journal") where name.hasSuffix(".lz4") {
            try fileSystem.removeFile("/data/journal/" + name)
        }
        let fresh = try Journal.open(configuration)
        try fresh.append([try randomEvent(&generator, batch: 1)])
        try fresh.close()
        let reopened = try Journal.open(configuration)
        #expect(try reopened.entry(at: 1)?.position == 1)
        #expect(try reopened.entries(withKey: "batch:1").count == 1)
    }

    /// A process killed with unsynced records, then a clean open and close by another: the index the
    /// second writes covers those records, so they must be synced first. A crash after that keeps them.
    @Test func indexIsWrittenOnlyOverSyncedBytes() throws {
        let fileSystem = SimulatedFileSystem()
        let configuration = simulatedConfiguration(fileSystem)
        var generator = SplitMix64(seed: 21)
        var killed: Journal? = try Journal.open(configuration)
        for batch in 1...5 { try killed?.appendDeferred([try randomEvent(&generator, batch: batch)]) }
        killed = nil  // dropped without close: the writes stay unsynced
        try Journal.open(configuration).close()
        let image = fileSystem.crashImage(directoryChangesKept: true) { $0 < 5 ? .garbled : .kept }
        let reopened = try Journal.open(simulatedConfiguration(image))
        #expect(reopened.nextPosition == 6, "the records were synced before the index was written")
        #expect(reopened.openReport.tornBytesCut == 0)
    }

    /// A damaged index found while writing the new one is rebuilt, not thrown out of `close()`.
    @Test func damagedIndexIsRebuiltWhenRewritten() throws {
        let fileSystem = SimulatedFileSystem()
        let configuration = simulatedConfiguration(fileSystem)
        var generator = SplitMix64(seed: 22)
        let journal = try Journal.open(configuration)
        for batch in 1...400 { try journal.append([try randomEvent(&generator, batch: batch)]) }
        try journal.close()
        let indexPath = "/data/journal/.index"
        var damaged = try #require(fileSystem.contents(of: indexPath))
        damaged[damaged.count - 3000] ^= 0x40
        fileSystem.replaceContents(of: indexPath, with: damaged)
        let writer = try Journal.open(configuration)
        try writer.append([try randomEvent(&generator, batch: 401)])
        try writer.close()
        let verification = try Journal.verify(configuration)
        #expect(verification.isSound)
        #expect(verification.indexFresh)
        #expect(try Journal.open(configuration, mode: .readOnly).entries(withKey: "batch:123").count == 1)
    }

    @Test func bodiesThatWouldBreakTheLineAreRefused() throws {
        let journal = try Journal.open(simulatedConfiguration(SimulatedFileSystem()))
        let bodies = [
            "{ }", "{\"type\":1}", "{\"a\":1,\"time\":2}", "{\"a\":{\"b\":1}}}", "{\"a\":\"}", "{\"a\":[}",
            "{\"t\\u0079pe\":1}", "{\"a\":1,\"a\":2}",
        ]
        for body in bodies {
            #expect(throws: JournalError.self, "\(body)") {
                try journal.append([JournalEvent(type: "x", body: Array(body.utf8))])
            }
        }
        // A nested field may use the reserved names.
        try journal.append([JournalEvent(type: "x", body: Array("{\"a\":{\"type\":\"}{\\\"\"}}".utf8))])
        let line = try #require(try journal.entry(at: 1)).line
        #expect(try JSONSerialization.jsonObject(with: Data(line)) is [String: Any])
    }

    @Test(arguments: [1, 3, 8, 64, 100, 4096, 70_000])
    func zeroAndGarbageTailsAreCut(length: Int) throws {
        let fixture = try Fixture(records: 3)
        var generator = SplitMix64(seed: UInt64(length))
        let tails: [[UInt8]] = [
            [UInt8](repeating: 0, count: length),
            (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) },
            // Garbage that starts like a record header frame.
            Array(
                [0x51, 0x2a, 0x4d, 0x18, 0x48, 0, 0, 0]
                    + (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }),
        ]
        for tail in tails {
            let fileSystem = fixture.copy(withSegment: fixture.bytes + tail)
            let journal = try Journal.open(simulatedConfiguration(fileSystem))
            #expect(journal.openReport.tornBytesCut == UInt64(tail.count))
            #expect(try allLines(journal) == fixture.lines)
        }
    }

    @Test func damageFollowedByTwoDurableRecordsIsCorruptionNotATornTail() throws {
        let fixture = try Fixture(records: 4)
        var damaged = fixture.bytes
        // A hole followed by a durable record and another record: the first one's fdatasync completed
        // before the second was written, so the hole cannot come from a crash.
        for offset in fixture.boundaries[1]..<fixture.boundaries[2] { damaged[offset] = 0 }
        let fileSystem = fixture.copy(withSegment: damaged)
        #expect(throws: JournalError.self) { try Journal.open(simulatedConfiguration(fileSystem)) }
        #expect(fileSystem.contents(of: fixture.segment) == damaged)
    }

    @Test func holeBeforeOneLastRecordIsATornTail() throws {
        // A crash during the last record's fdatasync can keep that record and lose the unsynced one
        // before it, so a hole followed by exactly one record is cut, and the cut is reported.
        let fixture = try Fixture(records: 4)
        var damaged = fixture.bytes
        for offset in fixture.boundaries[2]..<fixture.boundaries[3] { damaged[offset] = 0 }
        let fileSystem = fixture.copy(withSegment: damaged)
        let journal = try Journal.open(simulatedConfiguration(fileSystem))
        #expect(journal.openReport.tornBytesCut == UInt64(fixture.boundaries[4] - fixture.boundaries[2]))
        #expect(try allLines(journal) == Array(fixture.lines.prefix(4)))
    }

    @Test func damagedDurableRecordFollowedByAnyRecordIsCorruption() throws {
        let fixture = try Fixture(records: 4)
        var damaged = fixture.bytes
        // The header of the third record is intact and says durable; its frame is damaged.
        damaged[fixture.boundaries[3] - 6] ^= 0x10
        #expect(throws: JournalError.self) {
            try Journal.open(simulatedConfiguration(fixture.copy(withSegment: damaged)))
        }
    }

    @Test func missingSegmentIsCorruption() throws {
        let fileSystem = SimulatedFileSystem()
        let configuration = simulatedConfiguration(fileSystem, segmentSizeLimit: 2048)
        var generator = SplitMix64(seed: 3)
        let journal = try Journal.open(configuration)
        for batch in 1...40 { try journal.append([try randomEvent(&generator, batch: batch)]) }
        try journal.close()
        let segments = try fileSystem.contentsOfDirectory("/data/journal").filter { $0.hasSuffix(".lz4") }
            .sorted()
        #expect(segments.count >= 4)
        // A middle segment, then the newest one (only the index can tell that one is gone).
        for victim in [segments[1], segments[segments.count - 1]] {
            let copy = fileSystem.crashImage(directoryChangesKept: true) { _ in .kept }
            try copy.removeFile("/data/journal/" + victim)
            #expect(throws: JournalError.self) { try Journal.open(simulatedConfiguration(copy)) }
            #expect(!(try Journal.verify(simulatedConfiguration(copy)).isSound) || victim == segments.last)
        }
        let copy = fileSystem.crashImage(directoryChangesKept: true) { _ in .kept }
        try copy.removeFile("/data/journal/" + segments[0])
        #expect(throws: JournalError.self) { try Journal.open(simulatedConfiguration(copy)) }
    }

    @Test func verifyReportsASoundJournalAndAFreshIndex() throws {
        let fixture = try Fixture(records: 6)
        let before = try Journal.verify(fixture.configuration)
        #expect(before.isSound)
        #expect(!before.indexFresh)
        #expect(before.events == 12)
        #expect(before.records == 6)
        try Journal.open(fixture.configuration).close()
        let after = try Journal.verify(fixture.configuration)
        #expect(after.indexFresh)
        #expect(after.tornTail == nil)
    }
}
