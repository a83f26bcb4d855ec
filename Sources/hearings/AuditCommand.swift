import ArgumentParser
import Foundation
import Journal
import Updater

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "What one batch did, field by field, from the journal alone (read-only).",
        discussion: """
            Prints the batch's origin (run, time, source, congress, look-back), its outcome and duration, \
            every mutation with its table, natural key (event id, committee system code, witness name and \
            organization; a child row by its parent's), operation and field-level diff, the items rejected \
            with it and why, the compensations that undid it ("reverted by batch N"), and the later \
            batches that changed the same rows.

            Needs only the journal: no database, no lock; it runs while another command writes. \
            `--format json` prints the stable document described in docs/operations.md.
            """
    )

    @OptionGroup var home: HomeOptions

    @Argument(help: "The batch id.")
    var batch: Int64

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func validate() throws {
        if batch < 1 { throw ValidationError("a batch id is a positive integer") }
    }

    func run() throws {
        let journal = try Journal.open(
            JournalConfiguration(directory: home.journalDirectory), mode: .readOnly)
        if let reason = journal.openReport.tornTailReason {
            printError(
                "note: the journal ends in a torn tail of \(journal.openReport.tornBytesCut) bytes (\(reason)); "
                    + "it is ignored and will be cut by the next writing command")
        }
        guard let audit = try Audit.batch(batch, in: journal) else {
            printError("error: batch \(batch) is not in the journal at \(home.journalDirectory)")
            throw ExitCode(1)
        }
        switch format {
        case .json: print(audit.json)
        case .text: print(audit.text, terminator: "")
        }
    }
}
