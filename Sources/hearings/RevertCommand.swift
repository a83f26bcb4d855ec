import ArgumentParser
import Foundation
import Store
import Updater

struct RevertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revert",
        abstract: "Undo one committed batch with compensating events, journaled as a batch of its own.",
        discussion: """
            The compensation is the batch's inverse, built from its journaled row images (insert → delete, \
            update → the before-image, delete → insert, in reverse order), applied in one transaction in a \
            run of its own. Every row must still hold what the batch left; otherwise nothing is changed and \
            each conflict is listed (table, key, field, expected, found), exit status 5.

            Refused (exit 1): a batch that is not in the journal, that failed or was aborted (it changed \
            nothing), or that is already reverted (the message names the reverting batch). Reverting a \
            revert applies the original batch again. A crash during a revert is completed by recovery.
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
        let report = try withSession(home: home, command: "revert") { session in
            let plan = try session.planRevert(batch: batch)
            if !plan.conflicts.isEmpty && format == .json {
                print(try jsonText(RevertRefusal(batchID: batch, conflicts: plan.conflicts)))
            }
            return try session.revert(plan)
        }
        switch format {
        case .json: print(try jsonText(report))
        case .text: print(report.text, terminator: "")
        }
    }
}

/// The JSON document `hearings revert --format json` prints when conflicts refuse the revert.
struct RevertRefusal: Encodable {
    var batchID: Int64
    var conflicts: [RevertConflict]

    enum CodingKeys: String, CodingKey {
        case conflicts
        case batchID = "batch_id"
        case reverted
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(batchID, forKey: .batchID)
        try container.encode(false, forKey: .reverted)
        try container.encode(conflicts, forKey: .conflicts)
    }
}
