import FaultInjection
import Foundation
import Journal
import Testing

/// `Journal.mark()` and `requireHistory(_:)`: a second handle, opened later on the same folder, must
/// hold the first handle's events (more may follow), or say it does not.
@Suite struct JournalMarkTests {
    private func append(_ count: Int, tag: String, to journal: Journal) throws {
        for number in 0..<count {
            _ = try journal.append([
                JournalEvent(type: "test", body: Array("{\"n\":\(number),\"tag\":\"\(tag)\"}".utf8), keys: [])
            ])
        }
    }

    @Test func aLaterHandleHoldsTheEventsOrSaysItDoesNot() throws {
        let fileSystem = SimulatedFileSystem()
        let configuration = simulatedConfiguration(fileSystem, segmentSizeLimit: 4096)
        let writer = try Journal.open(configuration)
        let empty = try Journal.open(configuration, mode: .readOnly).mark()
        #expect(empty.nextPosition == 1 && empty.lastRecordHash == nil)
        try append(60, tag: "a", to: writer)
        let first = try Journal.open(configuration, mode: .readOnly)
        let mark = try first.mark()
        #expect(mark.nextPosition == 61 && mark.lastRecordHash != nil)

        // The same folder, and the same folder with more events: the history holds.
        try Journal.open(configuration, mode: .readOnly).requireHistory(mark)
        try append(25, tag: "b", to: writer)
        try writer.close()
        try Journal.open(configuration, mode: .readOnly).requireHistory(mark)
        try Journal.open(configuration, mode: .readOnly).requireHistory(empty)

        // The folder emptied, cut short, or holding another journal as long: it does not.
        let saved = try fileSystem.contentsOfDirectory("/data/journal").map {
            ($0, try #require(fileSystem.contents(of: "/data/journal/" + $0)))
        }
        func restore() throws {
            for name in try fileSystem.contentsOfDirectory("/data/journal") {
                try fileSystem.removeFile("/data/journal/" + name)
            }
            for (name, bytes) in saved {
                _ = try fileSystem.createFile("/data/journal/" + name)
                fileSystem.replaceContents(of: "/data/journal/" + name, with: bytes)
            }
        }
        let cases: [(String, (Journal) throws -> Void)] = [
            ("emptied", { _ in }),
            ("cut short", { writer in try self.append(40, tag: "a", to: writer) }),
            ("another journal", { writer in try self.append(90, tag: "c", to: writer) }),
        ]
        for (name, fill) in cases {
            for file in try fileSystem.contentsOfDirectory("/data/journal") {
                try fileSystem.removeFile("/data/journal/" + file)
            }
            let other = try Journal.open(configuration)
            try fill(other)
            try other.close()
            #expect(throws: JournalError.self, "\(name)") {
                try Journal.open(configuration, mode: .readOnly).requireHistory(mark)
            }
            try restore()
            try Journal.open(configuration, mode: .readOnly).requireHistory(mark)
        }
    }
}
