import ArgumentParser

@main
struct HearingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hearings",
        abstract: "Keep a SQLite database of US Congressional committee meetings up to date, journaled.",
        discussion: """
            Every change is first appended to an LZ4-compressed, hash-chained journal and only then applied \
            to SQLite in one transaction. The data home (--home, or HEARINGS_HOME, default the current \
            folder) holds hearings.sqlite, journal/ and snapshots/.

            Exit status: 0 success; 1 failure; 64 usage error; 3 a run finished but some items or batches \
            failed; 4 verification found a problem; 5 revert refused because of conflicts; 6 an ingest \
            run raised a critical anomaly and was undone (--on-anomaly revert).
            """,
        subcommands: [
            IngestCommand.self, RecoverCommand.self, SnapshotCommand.self, RebuildCommand.self,
            VerifyCommand.self, AuditCommand.self, RevertCommand.self, LogCommand.self,
            ImportLegacyCommand.self, JournalCommand.self,
        ]
    )
}

/// The data home shared by every subcommand.
struct HomeOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The data home holding hearings.sqlite, journal/ and snapshots/ (env HEARINGS_HOME; default: the current folder).",
            valueName: "dir"))
    var home: String?

    /// The data home: the flag, else HEARINGS_HOME, else the current folder; without a trailing slash.
    var path: String {
        let chosen = home ?? environment("HEARINGS_HOME") ?? "."
        return chosen.count > 1 && chosen.hasSuffix("/") ? String(chosen.dropLast()) : chosen
    }

    var journalDirectory: String { path + "/journal" }
}
