import FaultInjection
import Foundation
import Journal
import Testing

/// The index file's fence (version 3): the first 8 bytes of every table chunk, which lets a lookup of
/// many keys or positions read the one chunk that holds each. It is a hint, not checked: a wrong fence
/// may cost reads, never a wrong answer; a version 2 file, without one, is still read.
@Suite struct JournalIndexFenceTests {
    private static let indexPath = "/data/journal/.index"

    /// A journal of 1,500 records of 2 events, each event with 40 keys of its own (120,000 keys: a key
    /// table of 469 chunks), all covered by the index file.
    private func makeJournal(_ fileSystem: SimulatedFileSystem) throws -> (
        configuration: JournalConfiguration, keys: [String: UInt64]
    ) {
        let configuration = simulatedConfiguration(fileSystem, segmentSizeLimit: 1 << 20)
        var expected: [String: UInt64] = [:]
        var position: UInt64 = 1
        let journal = try Journal.open(configuration)
        for _ in 0..<1_500 {
            var events: [JournalEvent] = []
            for _ in 0..<2 {
                let keys = (0..<40).map { "row:t\($0):\(position)" }
                for key in keys { expected[key] = position }
                events.append(JournalEvent(type: "test", body: Array("{\"n\":\(position)}".utf8), keys: keys))
                position += 1
            }
            _ = try journal.appendDeferred(events)
        }
        try journal.close()
        return (configuration, expected)
    }

    /// The same index as version 2 wrote it: no fence, version 2, the header check over the new header.
    private func versionTwo(_ index: [UInt8]) -> [UInt8] {
        let layout = IndexFileLayout(index)
        var result = Array(index[0..<layout.fenceBase])
        result[4] = 2
        let check = SHA256Digest.of(Array(result[0..<88]) + Array(result[96..<layout.recordsBase])).bytes
        result.replaceSubrange(88..<96, with: check.prefix(8))
        return result
    }

    /// The index file reads `lookups` keys cost, and their answers.
    private func lookUp(
        _ keys: [String], _ configuration: JournalConfiguration, _ fileSystem: SimulatedFileSystem
    )
        throws -> (reads: Int, found: [[UInt64]], rebuilt: Bool)
    {
        let journal = try Journal.open(configuration, mode: .readOnly)
        defer { try? journal.close() }
        let before = fileSystem.reads
        let found = try journal.positions(withKeys: keys)
        return (fileSystem.reads - before, found, journal.openReport.indexRebuilt)
    }

    @Test func manyKeysReadTheOneChunkThatHoldsEach() throws {
        let fileSystem = SimulatedFileSystem()
        let (configuration, expected) = try makeJournal(fileSystem)
        var generator = SplitMix64(seed: 5)
        let keys = Array(expected.keys.sorted().shuffled(using: &generator).prefix(100))
        let fenced = try lookUp(keys, configuration, fileSystem)
        #expect(!fenced.rebuilt)
        #expect(fenced.found == keys.map { [expected[$0] ?? 0] })
        // One chunk per key, the fence and the page of checks; a key that is the first of its chunk
        // costs the chunk before it too (about one key in 256).
        #expect(fenced.reads <= keys.count + 5, "\(fenced.reads) reads for \(keys.count) keys")

        let intact = try #require(fileSystem.contents(of: Self.indexPath))
        fileSystem.replaceContents(of: Self.indexPath, with: versionTwo(intact))
        let unfenced = try lookUp(keys, configuration, fileSystem)
        #expect(!unfenced.rebuilt, "a version 2 index is read, not rebuilt")
        #expect(unfenced.found == fenced.found)
        #expect(unfenced.reads > fenced.reads, "without the fence the search reads more chunks")
        #expect(try Journal.verify(configuration).indexFresh)
    }

    @Test func aWrongFenceCostsReadsNeverAnswers() throws {
        let fileSystem = SimulatedFileSystem()
        let (configuration, expected) = try makeJournal(fileSystem)
        let intact = try #require(fileSystem.contents(of: Self.indexPath))
        #expect(try Journal.verify(configuration).indexFresh)
        let layout = IndexFileLayout(intact)
        let (offset, length) = (layout.fenceBase, 8 * layout.chunks)
        var generator = SplitMix64(seed: 9)
        let keys = Array(expected.keys.sorted().shuffled(using: &generator).prefix(300))
        let reference = try Journal.open(configuration, mode: .readOnly)
        let last = reference.nextPosition - 1
        let positions = stride(from: 1, through: last, by: 7).map { $0 }
        let entries = try reference.entries(at: positions).map(\.line)
        try reference.close()
        let wrongFences: [(String, [UInt8])] = [
            ("zeros", [UInt8](repeating: 0, count: length)),
            ("ones", [UInt8](repeating: 0xff, count: length)),
            ("random", (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }),
            ("reversed", intact[offset...].reversed()),
        ]
        for (name, wrong) in wrongFences {
            fileSystem.replaceContents(of: Self.indexPath, with: Array(intact[0..<offset]) + wrong)
            let journal = try Journal.open(configuration, mode: .readOnly)
            #expect(try journal.positions(withKeys: keys) == keys.map { [expected[$0] ?? 0] }, "\(name)")
            #expect(try journal.entries(at: positions).map(\.line) == entries, "\(name)")
            #expect(
                !journal.openReport.indexRebuilt, "\(name): the tables are sound, only the fence is wrong")
            try journal.close()
            #expect(
                !(try Journal.verify(configuration).indexFresh), "\(name): verify sees the fence is wrong")
        }
    }

    /// Pages the kernel no longer holds cost a device read each: a lookup of many keys names every
    /// chunk it will read before reading any (`File.willRead`), and a read of many events every record.
    @Test func manyKeysAndEventsAdviseEveryReadBeforeTheFirst() throws {
        let fileSystem = SimulatedFileSystem()
        let (configuration, expected) = try makeJournal(fileSystem)
        var generator = SplitMix64(seed: 13)
        let keys = Array(expected.keys.sorted().shuffled(using: &generator).prefix(200))
        let journal = try Journal.open(configuration, mode: .readOnly)
        defer { try? journal.close() }
        fileSystem.recordAccesses()
        #expect(try journal.positions(withKeys: keys) == keys.map { [expected[$0] ?? 0] })
        let positions = Array(Set(keys.compactMap { expected[$0] })).sorted()
        _ = try journal.entries(at: positions)
        let accesses = fileSystem.accesses
        func advisedBefore(_ index: Int) -> Bool {
            let read = accesses[index]
            return accesses[..<index].contains { advice in
                advice.advice && advice.path == read.path && advice.offset <= read.offset
                    && read.offset + UInt64(read.count) <= advice.offset + UInt64(advice.count)
            }
        }
        let chunkReads = accesses.indices.filter {
            !accesses[$0].advice && accesses[$0].path == Self.indexPath && accesses[$0].count == 4096
        }
        let recordReads = accesses.indices.filter {
            !accesses[$0].advice && accesses[$0].path.hasSuffix(".lz4")
        }
        #expect(chunkReads.count >= 150, "the lookups read table chunks")
        #expect(recordReads.count >= 150, "the events were read from their records")
        #expect(chunkReads.filter { !advisedBefore($0) }.count <= 2, "a chunk the fence did not point to")
        #expect(recordReads.allSatisfy(advisedBefore))
    }

    /// The fence is a hint: an I/O error reading it leaves the lookup to go on without it, exact. An
    /// I/O error reading a table chunk is reported (kind `.io`), never taken for damage or an absence.
    @Test func anUnreadableFenceIsDoneWithoutAndAnUnreadableChunkIsReported() throws {
        let fileSystem = SimulatedFileSystem()
        let (configuration, expected) = try makeJournal(fileSystem)
        var generator = SplitMix64(seed: 17)
        let keys = Array(expected.keys.sorted().shuffled(using: &generator).prefix(100))
        let fenceBase = IndexFileLayout(try #require(fileSystem.contents(of: Self.indexPath))).fenceBase
        // Which read of a lookup on a fresh handle is the fence's, and which the first chunk's.
        let probe = try Journal.open(configuration, mode: .readOnly)
        let start = fileSystem.reads
        fileSystem.recordAccesses()
        _ = try probe.positions(withKeys: keys)
        let reads = fileSystem.accesses.filter { !$0.advice }
        let fenceRead = try #require(
            reads.firstIndex { $0.path == Self.indexPath && $0.offset == UInt64(fenceBase) })
        let chunkRead = try #require(
            reads.indices.first {
                $0 > fenceRead && reads[$0].path == Self.indexPath && reads[$0].count == 4096
            })
        try probe.close()
        #expect(fileSystem.reads - start == reads.count)

        let withoutFence = try Journal.open(configuration, mode: .readOnly)
        fileSystem.injectReadError(EIO, atRead: fileSystem.reads + fenceRead)
        let before = fileSystem.reads
        #expect(try withoutFence.positions(withKeys: keys) == keys.map { [expected[$0] ?? 0] })
        #expect(!withoutFence.openReport.indexRebuilt)
        #expect(fileSystem.reads - before > reads.count, "without the fence the search reads more")
        try withoutFence.close()

        let failing = try Journal.open(configuration, mode: .readOnly)
        fileSystem.injectReadError(EIO, atRead: fileSystem.reads + chunkRead)
        let error = #expect(throws: JournalError.self) { try failing.positions(withKeys: keys) }
        #expect(error?.kind == .io)
        #expect(!failing.openReport.indexRebuilt)
    }
}
