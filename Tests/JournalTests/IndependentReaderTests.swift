import Foundation
import Journal
import Testing

/// The repository root: this file is Tests/JournalTests/IndependentReaderTests.swift.
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

/// What one run of tools/journal_reader.py produced.
private struct ReaderRun {
    var status: Int32
    var output: Data
    var errors: String

    var text: String { String(decoding: output, as: UTF8.self) }
}

/// The first executable `python3` on the search path.
private func python3() -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":").map(String.init) + ["/usr/bin"] {
        let candidate = directory + "/python3"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Runs `python3 tools/journal_reader.py arguments…`; a missing python3 or script fails the test.
private func runReader(_ arguments: [String]) throws -> ReaderRun {
    let python = try #require(python3(), "python3 is required to run tools/journal_reader.py")
    let script = repositoryRoot + "/tools/journal_reader.py"
    try #require(FileManager.default.fileExists(atPath: script), "\(script) is missing")
    // Output goes to files, not pipes, so that neither stream can fill up and block the other.
    let scratch = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let outputPath = scratch + "/stdout"
    let errorsPath = scratch + "/stderr"
    try #require(FileManager.default.createFile(atPath: outputPath, contents: nil))
    try #require(FileManager.default.createFile(atPath: errorsPath, contents: nil))
    let outputHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
    let errorsHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errorsPath))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [script] + arguments
    process.standardOutput = outputHandle
    process.standardError = errorsHandle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try outputHandle.close()
    try errorsHandle.close()
    return ReaderRun(
        status: process.terminationStatus,
        output: try Data(contentsOf: URL(fileURLWithPath: outputPath)),
        errors: String(decoding: try Data(contentsOf: URL(fileURLWithPath: errorsPath)), as: UTF8.self))
}

/// A journal on the real file system spanning several segments and three sessions, with durable and
/// deferred appends, multi-event records, events without keys and events with several keys.
private struct SampleJournal {
    let parent: String
    let directory: String
    let configuration: JournalConfiguration
    /// Every event line, as the Swift reader returns it.
    let lines: [String]

    init(seed: UInt64) throws {
        parent = try temporaryDirectory()
        directory = parent + "/journal"
        configuration = JournalConfiguration(directory: directory, segmentSizeLimit: 8192)
        var generator = SplitMix64(seed: seed)
        var batch = 0
        for _ in 0..<3 {
            let journal = try Journal.open(configuration)
            for _ in 0..<30 {
                batch += 1
                var events = try (0..<Int.random(in: 1...4, using: &generator)).map { _ in
                    try randomEvent(&generator, batch: batch)
                }
                if batch % 5 == 0 {
                    events.append(JournalEvent(type: "marker", body: Array("{}".utf8)))
                }
                if batch % 7 == 0 {
                    events.append(
                        JournalEvent(
                            type: "multi.key", body: Array("{\"n\":\(batch)}".utf8),
                            keys: ["a:\(batch)", "b:\(batch)", "clé:\(batch)"]))
                }
                if Bool.random(using: &generator) {
                    try journal.append(events)
                } else {
                    try journal.appendDeferred(events)
                }
            }
            try journal.close()
        }
        lines = try allLines(try Journal.open(configuration, mode: .readOnly))
    }

    /// Segment file names, in position order.
    func segments() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted()
    }

    func bytes(of segment: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + segment)))
    }

    func write(_ bytes: [UInt8], to segment: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + segment))
    }

    var indexPath: String { directory + "/.index" }

    /// The text the reader must print: every line, newline-terminated.
    var expectedOutput: String { lines.map { $0 + "\n" }.joined() }

    func remove() {
        try? FileManager.default.removeItem(atPath: parent)
    }
}

/// The byte offsets of the records of a segment, walked with the frame sizes alone (after the 64-byte
/// metadata frame: header frame of 8 + its size field, then an LZ4 frame of the header's frame length).
private func recordOffsets(_ bytes: [UInt8]) -> [Int] {
    func littleEndian32(_ at: Int) -> Int {
        (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) }
    }
    var offsets: [Int] = []
    var cursor = 64
    while cursor + 36 <= bytes.count {
        offsets.append(cursor)
        cursor += 8 + littleEndian32(cursor + 4) + littleEndian32(cursor + 32)
    }
    return offsets
}

@Suite struct IndependentReaderTests {
    @Test func readerPrintsExactlyTheLinesTheSwiftReaderReturns() throws {
        let sample = try SampleJournal(seed: 21)
        defer { sample.remove() }
        #expect(try sample.segments().count > 3, "the workload must roll segments")
        #expect(sample.lines.count > 200)
        let run = try runReader([sample.directory])
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.errors.isEmpty)
        #expect(run.text == sample.expectedOutput)
        #expect(run.text.split(separator: "\n").map(String.init) == sample.lines)
    }

    @Test func verifyAcceptsTheJournalAndItsIndex() throws {
        let sample = try SampleJournal(seed: 22)
        defer { sample.remove() }
        let run = try runReader(["--verify", sample.directory])
        #expect(run.status == 0, "\(run.errors)")
        let verification = try Journal.verify(sample.configuration)
        #expect(verification.isSound)
        #expect(verification.indexFresh)
        #expect(
            run.text.hasPrefix(
                "sound: \(try sample.segments().count) segments, \(verification.records) records, "
                    + "\(verification.events) events"))
        #expect(run.text.contains("index: fresh"), "\(run.text)")
    }

    /// One flipped byte anywhere in a middle record of a sealed segment (header fields, chain link, key
    /// table, header check, LZ4 frame header, compressed data, content checksum) is damage at that record.
    @Test func flippedByteInAMiddleRecordIsDamage() throws {
        let sample = try SampleJournal(seed: 23)
        defer { sample.remove() }
        let segments = try sample.segments()
        try #require(segments.count > 2, "the middle segment must be sealed")
        let segment = segments[segments.count / 2]
        let original = try sample.bytes(of: segment)
        let offsets = recordOffsets(original)
        try #require(offsets.count >= 3, "the middle segment needs a middle record")
        let start = offsets[offsets.count / 2]
        let end = offsets[offsets.count / 2 + 1]
        let headerLength = 8 + (0..<4).reduce(0) { $0 | Int(original[start + 4 + $1]) << (8 * $1) }
        let probes = [
            start + 2, start + 5, start + 13, start + 18, start + 26, start + 30, start + 34, start + 45,
            start + headerLength - 12, start + headerLength - 3, start + headerLength + 5,
            (start + headerLength + end) / 2, end - 2,
        ]
        for probe in probes {
            var damaged = original
            damaged[probe] ^= 0x20
            try sample.write(damaged, to: segment)
            let verify = try runReader(["--verify", sample.directory])
            #expect(verify.status == 4, "flip at \(probe) of \(segment): \(verify.errors)")
            #expect(verify.errors.contains("segment \(segment), byte offset \(start))"), "\(verify.errors)")
            let read = try runReader([sample.directory])
            #expect(read.status == 4, "flip at \(probe): reading must stop")
            #expect(!(try Journal.verify(sample.configuration).isSound), "Swift verify, flip at \(probe)")
        }
        try sample.write(original, to: segment)
        #expect(try runReader(["--verify", sample.directory]).status == 0)
    }

    /// A last record cut short, with no index (a crash before the close that writes it): a torn tail.
    /// Both readers return the lines before it, and it is not damage.
    @Test func tornTailIsSkippedLikeTheSwiftReaderSkipsIt() throws {
        let sample = try SampleJournal(seed: 24)
        defer { sample.remove() }
        try FileManager.default.removeItem(atPath: sample.indexPath)
        let last = try #require(try sample.segments().last)
        let bytes = try sample.bytes(of: last)
        let offsets = recordOffsets(bytes)
        let cut = try #require(offsets.last) + 40
        try sample.write(Array(bytes[..<cut]), to: last)
        let swiftLines = try allLines(try Journal.open(sample.configuration, mode: .readOnly))
        #expect(swiftLines.count < sample.lines.count)
        #expect(swiftLines == Array(sample.lines.prefix(swiftLines.count)))
        let read = try runReader([sample.directory])
        #expect(read.status == 0, "\(read.errors)")
        #expect(read.text == swiftLines.map { $0 + "\n" }.joined())
        #expect(read.errors.contains("torn tail"))
        let verify = try runReader(["--verify", sample.directory])
        #expect(verify.status == 0, "\(verify.errors)")
        #expect(verify.text.contains("torn tail: 40 bytes in \(last) from byte offset \(cut - 40)"))
    }

    /// The same cut with the index present: the index was written at close, after an fdatasync, and
    /// covers the cut record, so its bytes were durable. Both readers call it corruption, and opening
    /// refuses the journal and cuts nothing.
    @Test func cutInBytesTheIndexCoversIsCorruption() throws {
        let sample = try SampleJournal(seed: 24)
        defer { sample.remove() }
        let last = try #require(try sample.segments().last)
        let bytes = try sample.bytes(of: last)
        let damageOffset = try #require(recordOffsets(bytes).last)
        let cut = Array(bytes[..<(damageOffset + 40)])
        try sample.write(cut, to: last)
        let verification = try Journal.verify(sample.configuration)
        #expect(!verification.isSound)
        #expect(verification.tornTail == nil)
        #expect(verification.problems.first?.contains("byte offset \(damageOffset))") == true)
        let verify = try runReader(["--verify", sample.directory])
        #expect(verify.status == 4, "\(verify.errors)")
        #expect(verify.errors.contains("segment \(last), byte offset \(damageOffset))"), "\(verify.errors)")
        #expect(!verify.errors.contains("journal_reader: torn tail"), "\(verify.errors)")
        let read = try runReader([sample.directory])
        #expect(read.status == 4, "\(read.errors)")
        #expect(throws: JournalError.self) { try Journal.open(sample.configuration) }
        #expect(throws: JournalError.self) { try Journal.open(sample.configuration, mode: .readOnly) }
        #expect(try sample.bytes(of: last) == cut, "nothing is cut")
    }

    /// The index's coverage point divides the newest segment: damage to a record before it is
    /// corruption, damage to a deferred record after it (appended by a session that stopped without
    /// closing) falls under the crash rule and is a torn tail. Both readers agree on each.
    @Test func bothReadersTakeTheIndexCoverageAsProofOfDurability() throws {
        let sample = try SampleJournal(seed: 27)
        defer { sample.remove() }
        let coveredSegment = try #require(try sample.segments().last)
        let coveredEnd = try sample.bytes(of: coveredSegment).count
        do {
            let journal = try Journal.open(sample.configuration)
            for number in 1...3 {
                let body = Array("{\"n\":\(number)}".utf8)
                try journal.appendDeferred([JournalEvent(type: "late", body: body)])
            }
            // The session stops here: no close, so the index still ends where the last close left it.
        }
        let last = try #require(try sample.segments().last)
        let original = try sample.bytes(of: last)
        let bounds = recordOffsets(original) + [original.count]
        var outcomes: Set<Bool> = []
        for record in 0..<(bounds.count - 1) {
            let covered = last == coveredSegment && bounds[record] < coveredEnd
            var zeroed = original
            for offset in bounds[record]..<bounds[record + 1] { zeroed[offset] = 0 }
            var flipped = original
            flipped[bounds[record + 1] - 2] ^= 0x01
            for (label, damaged) in [("zeroed", zeroed), ("checksum flipped", flipped)] {
                try sample.write(damaged, to: last)
                let verification = try Journal.verify(sample.configuration)
                let verify = try runReader(["--verify", sample.directory])
                let context = "record \(record) of \(last) \(label), covered: \(covered)"
                #expect(verification.isSound == !covered, "\(context): \(verification.problems)")
                #expect(verify.status == (covered ? 4 : 0), "\(context): \(verify.errors)")
                if covered {
                    #expect(
                        verify.errors.contains("segment \(last), byte offset \(bounds[record]))"),
                        "\(context): \(verify.errors)")
                    #expect(throws: JournalError.self, "\(context)") {
                        try Journal.open(sample.configuration)
                    }
                } else {
                    let tornTail = try #require(verification.tornTail, "\(context)")
                    #expect(verify.errors.contains("journal_reader: torn tail: \(tornTail)"), "\(context)")
                }
                outcomes.insert(covered)
            }
        }
        try sample.write(original, to: last)
        #expect(outcomes == [true, false], "the damages must fall on both sides of the coverage point")
    }

    /// One damaged byte in the index's key table: the table's chunk check fails, so the index is not
    /// fresh (not damage: the segments are intact), and the first lookup that reads the chunk rebuilds
    /// the index from the segments and still finds the right events.
    @Test func damagedIndexKeyTableIsNotTrusted() throws {
        let sample = try SampleJournal(seed: 28)
        defer { sample.remove() }
        // The events each key must find, taken from the lines themselves.
        var expected: [String: [UInt64]] = [:]
        for (number, line) in sample.lines.enumerated() {
            let event = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let position = UInt64(number + 1)
            if event["type"] as? String == "multi.key", let batch = event["n"] as? Int {
                for prefix in ["a", "b", "clé"] {
                    expected["\(prefix):\(batch)", default: []].append(position)
                }
            } else if let batch = event["batch"] as? Int {
                expected["batch:\(batch)", default: []].append(position)
            }
        }
        try #require(expected.count > 90)
        var index = Array(try Data(contentsOf: URL(fileURLWithPath: sample.indexPath)))
        let layout = IndexFileLayout(index)
        try #require(layout.keys > 2)
        // A byte of the key hash of the middle entry: the first one a key lookup's binary search reads.
        index[layout.keysBase + 16 * (layout.keys / 2) + 3] ^= 0x10
        try Data(index).write(to: URL(fileURLWithPath: sample.indexPath))

        let verify = try runReader(["--verify", sample.directory])
        #expect(verify.status == 0, "\(verify.errors)")
        #expect(!verify.text.contains("index: fresh"), "\(verify.text)")
        #expect(verify.text.contains("key table chunk"), "\(verify.text)")
        let verification = try Journal.verify(sample.configuration)
        #expect(verification.isSound)
        #expect(!verification.indexFresh)

        let journal = try Journal.open(sample.configuration, mode: .readOnly)
        #expect(!journal.openReport.indexRebuilt, "opening reads only the record table's last chunk")
        for (key, positions) in expected {
            let found = try journal.entries(withKey: key)
            #expect(found.map(\.position) == positions, "\(key)")
            #expect(
                found.map { String(decoding: $0.line, as: UTF8.self) }
                    == positions.map { sample.lines[Int($0) - 1] }, "\(key)")
        }
        #expect(journal.openReport.indexRebuilt, "the damaged chunk was found and the index rebuilt")

        // A session that writes replaces the damaged file with the rebuilt index.
        let writer = try Journal.open(sample.configuration)
        #expect(try writer.entries(withKey: "batch:1").map(\.position) == expected["batch:1"])
        try writer.close()
        #expect(try runReader(["--verify", sample.directory]).text.contains("index: fresh"))
    }

    /// Damage to each record of the newest segment (zeroed, or one bit of its content checksum
    /// flipped): both readers tell a torn tail from corruption alike, put the torn tail at the same
    /// offset for the same reason, and return the same lines before it.
    @Test func bothReadersApplyTheSameTornTailRule() throws {
        let sample = try SampleJournal(seed: 25)
        defer { sample.remove() }
        let last = try #require(try sample.segments().last)
        let original = try sample.bytes(of: last)
        let bounds = recordOffsets(original) + [original.count]
        try #require(bounds.count >= 4, "the newest segment needs several records")
        // Without the index, opening walks every record, as verify does, and so meets the damage.
        try FileManager.default.removeItem(atPath: sample.indexPath)
        var damages: [(label: String, bytes: [UInt8])] = []
        for record in 0..<(bounds.count - 1) {
            var zeroed = original
            for offset in bounds[record]..<bounds[record + 1] { zeroed[offset] = 0 }
            damages.append(("record \(record) zeroed", zeroed))
            var flipped = original
            flipped[bounds[record + 1] - 2] ^= 0x01
            damages.append(("record \(record) checksum flipped", flipped))
        }
        var outcomes: Set<Bool> = []
        for damage in damages {
            try sample.write(damage.bytes, to: last)
            let verification = try Journal.verify(sample.configuration)
            outcomes.insert(verification.isSound)
            let verify = try runReader(["--verify", sample.directory])
            #expect(verify.status == (verification.isSound ? 0 : 4), "\(damage.label): \(verify.errors)")
            guard verification.isSound else { continue }
            let tornTail = try #require(verification.tornTail, "\(damage.label)")
            #expect(verify.errors.contains("journal_reader: torn tail: \(tornTail)"), "\(damage.label)")
            let swiftLines = try allLines(try Journal.open(sample.configuration, mode: .readOnly))
            let read = try runReader([sample.directory])
            #expect(read.status == 0)
            #expect(read.text == swiftLines.map { $0 + "\n" }.joined(), "\(damage.label)")
        }
        #expect(outcomes == [true, false], "the damages must include torn tails and corruption")
    }
}
