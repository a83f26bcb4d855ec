import ArgumentParser
import Foundation
import Journal

struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Read and check the event journal.",
        subcommands: [Dump.self, Verify.self]
    )

    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the journal's events as JSON lines (read-only).",
            discussion: """
                Each line is one event: {"position":…,"time":…,"type":…, …}. The output is what \
                `cat journal/*.lz4 | lz4 -dc` prints, checked: every record's header and content checksum \
                is verified on the way.
                """
        )

        @OptionGroup var home: HomeOptions

        @Option(help: "First position to print (default: 1).")
        var from: UInt64 = 1

        @Option(help: "Last position to print (default: the newest event).")
        var to: UInt64?

        func validate() throws {
            if from < 1 { throw ValidationError("--from must be 1 or more") }
            if let to, to < from { throw ValidationError("--to must not be less than --from") }
        }

        func run() throws {
            let journal = try Journal.open(
                JournalConfiguration(directory: home.journalDirectory), mode: .readOnly)
            if let reason = journal.openReport.tornTailReason {
                printError(
                    "note: the journal ends in a torn tail of \(journal.openReport.tornBytesCut) bytes (\(reason)); "
                        + "it is not printed and will be cut by the next writing command")
            }
            let output = FileHandle.standardOutput
            var buffer = Data()
            try journal.read(from: from, through: to) { entry in
                buffer.append(contentsOf: entry.line)
                buffer.append(0x0a)
                if buffer.count >= 1 << 20 {
                    output.write(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
                return true
            }
            output.write(buffer)
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every journal segment: frames, checksums, hash chain, positions, index.",
            discussion: "Exit status 4 when corruption is found. Changes nothing."
        )

        @OptionGroup var home: HomeOptions

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        func run() throws {
            let report = try Journal.verify(JournalConfiguration(directory: home.journalDirectory))
            switch format {
            case .json:
                let document = JournalVerifyDocument(report)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(document), as: UTF8.self))
            case .text:
                print(
                    "journal: \(report.segments) segments, \(report.records) records, \(report.events) events, "
                        + "\(report.storedBytes) bytes stored, \(report.decodedBytes) bytes decoded")
                print("index: \(report.indexFresh ? "fresh" : "stale or missing (rebuilt on the next open)")")
                if let torn = report.tornTail { print("torn tail: \(torn)") }
                for problem in report.problems { print("PROBLEM: \(problem)") }
                print(report.isSound ? "ok" : "corrupt")
            }
            if !report.isSound { throw ExitCode(4) }
        }
    }
}

/// `--format` values.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

/// The JSON document of `hearings journal verify --format json` (stable, snake_case keys).
struct JournalVerifyDocument: Encodable {
    var sound: Bool
    var segments: Int
    var records: Int
    var events: UInt64
    var storedBytes: UInt64
    var decodedBytes: UInt64
    var indexFresh: Bool
    var tornTail: String?
    var problems: [String]

    init(_ report: JournalVerification) {
        sound = report.isSound
        segments = report.segments
        records = report.records
        events = report.events
        storedBytes = report.storedBytes
        decodedBytes = report.decodedBytes
        indexFresh = report.indexFresh
        tornTail = report.tornTail
        problems = report.problems
    }

    enum CodingKeys: String, CodingKey {
        case sound, segments, records, events, problems
        case storedBytes = "stored_bytes"
        case decodedBytes = "decoded_bytes"
        case indexFresh = "index_fresh"
        case tornTail = "torn_tail"
    }
}
