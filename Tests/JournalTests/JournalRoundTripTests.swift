import FaultInjection
import Foundation
import Journal
import Testing

@Suite struct JournalRoundTripTests {
    @Test(arguments: [1, 2, 3, 4])
    func appendReadAcrossRollsAndReopens(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        let fileSystem = SimulatedFileSystem()
        let configuration = simulatedConfiguration(fileSystem, segmentSizeLimit: 4096)
        var expected: [(type: String, fields: SampleFields)] = []
        var batch = 0
        for _ in 0..<4 {
            let journal = try Journal.open(configuration)
            #expect(journal.openReport.tornBytesCut == 0)
            #expect(journal.nextPosition == UInt64(expected.count + 1))
            for _ in 0..<Int.random(in: 5...40, using: &generator) {
                batch += 1
                let events = try (0..<Int.random(in: 1...6, using: &generator)).map { _ in
                    try randomEvent(&generator, batch: batch)
                }
                let durable = Bool.random(using: &generator)
                let range = durable ? try journal.append(events) : try journal.appendDeferred(events)
                #expect(range.lowerBound == UInt64(expected.count + 1))
                #expect(range.count == events.count)
                for event in events {
                    expected.append(
                        (event.type, try JSONDecoder().decode(SampleFields.self, from: Data(event.body))))
                }
            }
            try journal.close()
        }
        let journal = try Journal.open(configuration, mode: .readOnly)
        let segments = try fileSystem.contentsOfDirectory("/data/journal").filter { $0.hasSuffix(".lz4") }
        #expect(segments.count > 3, "the workload must roll segments")
        var position: UInt64 = 0
        try journal.read { entry in
            position += 1
            #expect(entry.position == position)
            let envelope = try entry.envelope()
            #expect(envelope.position == position)
            #expect(envelope.type == expected[Int(position) - 1].type)
            #expect(envelope.time.hasSuffix("Z") && envelope.time.count == 24)
            #expect(try entry.decode(SampleFields.self) == expected[Int(position) - 1].fields)
            return true
        }
        #expect(position == UInt64(expected.count))
        // Reading from any position gives the same suffix.
        for start in stride(from: 1, through: expected.count, by: 7) {
            var seen: [UInt64] = []
            try journal.read(from: UInt64(start), through: UInt64(min(start + 9, expected.count))) { entry in
                seen.append(entry.position)
                return true
            }
            #expect(seen == Array(UInt64(start)...UInt64(min(start + 9, expected.count))))
        }
        // Key lookups find exactly the batch's events.
        for probe in [1, batch / 2, batch] {
            let found = try journal.entries(withKey: "batch:\(probe)")
            #expect(!found.isEmpty)
            for entry in found { #expect(try entry.decode(SampleFields.self).batch == probe) }
            let all = expected.indices.filter { expected[$0].fields.batch == probe }.map { UInt64($0 + 1) }
            #expect(found.map(\.position) == all)
        }
        #expect(try journal.entries(withKey: "batch:999999").isEmpty)
    }

    @Test func indexIsRebuiltWhenMissingOrDamagedAndNeverTrusted() throws {
        var generator = SplitMix64(seed: 9)
        let fileSystem = SimulatedFileSystem()
        let configuration = simulatedConfiguration(fileSystem, segmentSizeLimit: 8192)
        let journal = try Journal.open(configuration)
        for batch in 1...200 { try journal.append([try randomEvent(&generator, batch: batch)]) }
        try journal.close()
        let reference = try allLines(try Journal.open(configuration, mode: .readOnly))

        let fresh = try Journal.open(configuration, mode: .readOnly)
        #expect(!fresh.openReport.indexRebuilt)
        #expect(fresh.openReport.recordsScanned == 0)

        let indexPath = "/data/journal/.index"
        let original = try #require(fileSystem.contents(of: indexPath))
        var damaged = original
        damaged[damaged.count - 20] ^= 0xff
        damaged[40] ^= 0x01
        fileSystem.replaceContents(of: indexPath, with: damaged)
        let reopened = try Journal.open(configuration, mode: .readOnly)
        #expect(reopened.openReport.indexRebuilt)
        #expect(try allLines(reopened) == reference)
        #expect(try reopened.entries(withKey: "batch:150").count == 1)

        try fileSystem.removeFile(indexPath)
        let rebuilt = try Journal.open(configuration)
        #expect(rebuilt.openReport.indexRebuilt)
        #expect(try allLines(rebuilt) == reference)
        try rebuilt.close()
        #expect(fileSystem.contents(of: indexPath) != nil)
    }

    @Test func rejectsEventsItCannotStore() throws {
        let journal = try Journal.open(simulatedConfiguration(SimulatedFileSystem()))
        #expect(throws: JournalError.self) { try journal.append([]) }
        #expect(throws: JournalError.self) {
            try journal.append([JournalEvent(type: "bad type", body: Array("{}".utf8))])
        }
        #expect(throws: JournalError.self) {
            try journal.append([JournalEvent(type: "x", body: Array("[1]".utf8))])
        }
        #expect(throws: JournalError.self) {
            try journal.append([JournalEvent(type: "x", body: Array("{\"a\":\"\n\"}".utf8))])
        }
        // Nothing was written: the journal is still usable and empty.
        #expect(try journal.append([JournalEvent(type: "x", body: Array("{}".utf8))]) == 1...1)
        #expect(try allLines(journal).first?.hasSuffix("\"type\":\"x\"}") == true)
    }

    @Test func standardToolsReadTheSegments() throws {
        let directory = try temporaryDirectory() + "/journal"
        var generator = SplitMix64(seed: 5)
        let journal = try Journal.open(JournalConfiguration(directory: directory, segmentSizeLimit: 16384))
        for batch in 1...60 {
            try journal.append(try (0..<3).map { _ in try randomEvent(&generator, batch: batch) })
        }
        try journal.close()
        let segments = try FileManager.default.contentsOfDirectory(atPath: directory).filter {
            !$0.hasPrefix(".")
        }
        .sorted()
        #expect(segments.count > 1)
        var decoded = Data()
        for segment in segments {
            let (status, _) = try run("/usr/bin/lz4", ["-t", directory + "/" + segment])
            #expect(status == 0, "lz4 -t \(segment)")
            let (decodeStatus, output) = try run("/usr/bin/lz4", ["-dc", directory + "/" + segment])
            #expect(decodeStatus == 0)
            decoded += output
        }
        let lines = String(decoding: decoded, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 180)
        let (jqStatus, positions) = try run("/usr/bin/jq", ["-r", ".position"], input: decoded)
        #expect(jqStatus == 0)
        #expect(String(decoding: positions, as: UTF8.self) == (1...180).map { "\($0)\n" }.joined())
        for (offset, line) in lines.enumerated() {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["position"] as? Int == offset + 1)
        }
    }
}
