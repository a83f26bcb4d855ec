import ArgumentParser
import Foundation
import Journal
import Updater

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Runs and their batches, newest first, from the journal alone (read-only).",
        discussion: """
            Each run: id, time, command, source, status and, for an ingest run, its counts. Each batch: id, \
            time, kind, items, mutations, rejected items, result. A compensation names the batch it undoes \
            ("compensation of batch 9 (revert)"); a reverted batch names its reverting batch \
            ("reverted by 12").
            """
    )

    @OptionGroup var home: HomeOptions

    @Option(help: "Show the newest N runs (default 20).")
    var limit: Int = 20

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Flag(
        help: """
            Read the whole journal instead of looking runs up through its index (needed only for a \
            journal written before runs carried the `runs` index key; the result is the same).
            """)
    var scan = false

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let journal = try Journal.open(
            JournalConfiguration(directory: home.journalDirectory), mode: .readOnly)
        let log = try JournalLog.read(journal, limit: limit, scan: scan)
        switch format {
        case .json: print(try jsonText(log))
        case .text: print(log.text, terminator: "")
        }
    }
}
