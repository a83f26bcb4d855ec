import FaultInjection
import Foundation
import Journal
import Testing

/// Journals larger than the windows the journal reads and writes in: a segment scanned a few MiB at a
/// time, a record larger than that window, and an index whose tables are written in pieces and whose
/// tail is written while records are appended.
@Suite struct JournalLargeTests {
    /// 100 KB of random hex: LZ4 finds nothing to shorten within its 64 KB window, so a record made of
    /// copies of it is stored at about its own size.
    private static func incompressible() -> String {
        var generator = SplitMix64(seed: 77)
        let digits = Array("0123456789abcdef")
        return String((0..<100_000).map { _ in digits[Int(generator.next() % 16)] })
    }

    private struct Blob: Codable, Equatable {
        var number: Int
        var text: String
    }

    @Test func segmentsLargerThanTheScanWindowAreCheckedWhole() throws {
        let chunk = Self.incompressible()
        let fileSystem = SimulatedFileSystem()
        let configuration = simulatedConfiguration(fileSystem)
        let journal = try Journal.open(configuration)
        // 40 records of 200 KB, then one of 5 MB (larger than the scan window), then 10 more.
        var sizes = Array(repeating: 2, count: 40) + [50] + Array(repeating: 2, count: 10)
        sizes[7] = 1
        for (number, copies) in sizes.enumerated() {
            try journal.append([
                try JournalEvent(
                    type: "blob", fields: Blob(number: number, text: String(repeating: chunk, count: copies)),
                    keys: ["blob:\(number)"])
            ])
        }
        #expect(journal.verifyRecords(from: 1) == [])
        #expect(journal.verifyRecords(from: 41) == [])
        var visited: [UInt64] = []
        #expect(try journal.verifyRecords(from: 30) { visited.append($0.position) } == [])
        #expect(visited == Array(30...UInt64(sizes.count)))
        try journal.close()

        let report = try Journal.verify(configuration)
        #expect(report.isSound, "\(report.problems)")
        #expect(report.events == UInt64(sizes.count))
        // Without the index, opening scans every record from the segment's start.
        try fileSystem.removeFile("/data/journal/.index")
        let reopened = try Journal.open(configuration)
        #expect(reopened.openReport.recordsScanned == sizes.count)
        #expect(try reopened.entries(withKey: "blob:40").first?.decode(Blob.self).text.count == 5_000_000)
        try reopened.close()

        // A byte flipped inside the large record: found by the range check and by verify.
        let segment =
            "/data/journal/"
            + (try fileSystem.contentsOfDirectory("/data/journal").first {
                $0.hasSuffix(".lz4")
            } ?? "")
        let original = try #require(fileSystem.contents(of: segment))
        var damaged = original
        damaged[damaged.count - 3_000_000] ^= 0x55
        fileSystem.replaceContents(of: segment, with: damaged)
        let readOnly = try Journal.open(configuration, mode: .readOnly)
        #expect(!readOnly.verifyRecords(from: 30).isEmpty)
        #expect(readOnly.verifyRecords(from: 43) == [], "the records after the next are sound")
        #expect(!(try Journal.verify(configuration)).isSound)

        // The large record torn by a crash at the end of the last segment is cut on open.
        fileSystem.replaceContents(of: segment, with: Array(original.prefix(original.count - 2_000_000)))
        try fileSystem.removeFile("/data/journal/.index")
        let cut = try Journal.open(configuration)
        #expect(cut.openReport.tornBytesCut > 0)
        #expect(cut.nextPosition <= UInt64(sizes.count))
        try cut.close()
    }

    @Test func theIndexIsWrittenWhileItsTailGrowsAndMergedWithItsFile() throws {
        let fileSystem = SimulatedFileSystem()
        let configuration = simulatedConfiguration(fileSystem)
        let indexPath = "/data/journal/.index"
        // 2,000 keys a record: the tail reaches the limit after 33 records and is written then.
        func keys(_ record: Int) -> [String] { (0..<2000).map { "row:t:\(record * 2000 + $0)" } }
        let journal = try Journal.open(configuration)
        for record in 0..<30 {
            try journal.append([try JournalEvent(type: "intent", fields: ["n": record], keys: keys(record))])
        }
        #expect(fileSystem.contents(of: indexPath) == nil, "below the limit, the tail stays in memory")
        for record in 30..<45 {
            try journal.append([try JournalEvent(type: "intent", fields: ["n": record], keys: keys(record))])
        }
        #expect(fileSystem.contents(of: indexPath) != nil, "written when the tail passed the limit")
        for record in [0, 20, 33, 44] {
            #expect(try journal.positions(withKey: "row:t:\(record * 2000 + 1999)") == [UInt64(record + 1)])
        }
        try journal.close()
        // Reopened: everything from the file; then more records merged with it at close.
        let second = try Journal.open(configuration)
        #expect(second.openReport.recordsScanned == 0)
        for record in 45..<60 {
            try second.append([try JournalEvent(type: "intent", fields: ["n": record], keys: keys(record))])
        }
        try second.close()
        let report = try Journal.verify(configuration)
        #expect(report.isSound && report.indexFresh, "\(report.problems)")
        let readOnly = try Journal.open(configuration, mode: .readOnly)
        #expect(readOnly.openReport.recordsScanned == 0 && !readOnly.openReport.indexRebuilt)
        for record in stride(from: 0, to: 60, by: 7) {
            #expect(try readOnly.positions(withKey: "row:t:\(record * 2000 + 5)") == [UInt64(record + 1)])
        }
        #expect(try readOnly.positions(withKey: "row:t:120000").isEmpty)
    }

    @Test func anIndexWriteThatFailsWhileAppendingLosesNothingAndIsWrittenAtClose() throws {
        func keys(_ record: Int) -> [String] { (0..<2000).map { "row:t:\(record * 2000 + $0)" } }
        func append(_ journal: Journal, _ records: Range<Int>) throws {
            for record in records {
                try journal.append([
                    try JournalEvent(type: "intent", fields: ["n": record], keys: keys(record))
                ])
            }
        }
        // The I/O steps of the first index write: the steps of the append that passes the tail limit.
        let probe = SimulatedFileSystem()
        let probeJournal = try Journal.open(simulatedConfiguration(probe))
        try append(probeJournal, 0..<33)
        let before = probe.steps
        try append(probeJournal, 33..<34)
        #expect(probe.contents(of: "/data/journal/.index") != nil, "the 34th record writes the index")
        let writeSteps = before..<probe.steps

        var indexFaults = 0
        for step in writeSteps {
            let fileSystem = SimulatedFileSystem()
            let configuration = simulatedConfiguration(fileSystem)
            fileSystem.inject(.error(ENOSPC), atStep: step)
            let journal = try Journal.open(configuration)
            try append(journal, 0..<33)
            do {
                try append(journal, 33..<34)
            } catch let error as JournalError {
                // A fault in the segment's own write or fdatasync: the append fails, as anywhere else.
                #expect(error.segment != ".index", "step \(step): \(error)")
                continue
            }
            indexFaults += 1
            // The index write failed on its own: the record is durable, its keys are still found, and
            // the journal goes on appending.
            try append(journal, 34..<45)
            for record in [0, 33, 44] {
                #expect(
                    try journal.positions(withKey: "row:t:\(record * 2000 + 7)") == [UInt64(record + 1)],
                    "step \(step)")
            }
            try journal.close()
            let report = try Journal.verify(configuration)
            #expect(report.isSound && report.indexFresh, "step \(step): \(report.problems)")
            let reopened = try Journal.open(configuration, mode: .readOnly)
            #expect(try reopened.positions(withKey: "row:t:\(44 * 2000)") == [45], "step \(step)")
        }
        // The test means something only if some faults hit the index write itself.
        #expect(indexFaults > 0)
    }

    @Test func theRangeCheckNamesARecordRewrittenAfterThisJournalWroteIt() throws {
        let fileSystem = SimulatedFileSystem()
        let configuration = simulatedConfiguration(fileSystem)
        let first = try Journal.open(configuration)
        for number in 1...3 { try first.append([try JournalEvent(type: "e", fields: ["n": number])]) }
        try first.close()
        let segment =
            "/data/journal/"
            + (try fileSystem.contentsOfDirectory("/data/journal").first {
                $0.hasSuffix(".lz4")
            } ?? "")
        let before = try #require(fileSystem.contents(of: segment))
        let writer = try Journal.open(configuration)
        try writer.append([try JournalEvent(type: "e", fields: ["n": 4])])
        #expect(writer.verifyRecords(from: 4) == [])
        // Another record 4, as sound as the first, in its place: chain, positions and checksums hold.
        let written = try #require(fileSystem.contents(of: segment))
        fileSystem.replaceContents(of: segment, with: before)
        let other = try Journal.open(configuration)
        try other.append([try JournalEvent(type: "e", fields: ["n": 40])])
        #expect(other.verifyRecords(from: 4) == [])
        let problems = writer.verifyRecords(from: 4)
        #expect(problems.count == 1)
        #expect(problems.first?.contains("not the one the journal wrote last") == true, "\(problems)")
        fileSystem.replaceContents(of: segment, with: written)
        #expect(writer.verifyRecords(from: 4) == [])
    }
}
