import ArgumentParser
import Foundation
import Updater

#if canImport(Glibc)
    import Glibc
#endif

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "The daily ingest run: apply changed meetings in journaled, all-or-nothing batches.",
        discussion: """
            Sources: `sample` (default) is the bundled real data, two days of Congress.gov documents of the
            119th Congress: the first run of a data home ingests day 1, the next run day 2 (the real
            updates), later runs day 2 again (nothing changes). `sample:N` picks day N. `dir:PATH` reads
            every *.json Congress.gov document under PATH (meeting details; committee lists are used as
            reference data). `api` is the live Congress.gov API (not available in this build).

            Every batch is journaled (with the rows before and after) and durable before it commits. An
            invalid meeting is rejected alone with its reasons; a failed batch does not stop the run,
            unless --atomic-run, which then undoes every batch the run committed.

            Environment: BATCH_PROCESSING_SIZE (default 50); ENABLE_BATCH_PROCESSING=false means
            --atomic-run. Flags win over the environment.

            Exit status: 0 all applied; 3 the run finished but some meetings or batches failed; 1 the run
            could not run or stopped (another writer, journal I/O error …).
            """
    )

    @OptionGroup var home: HomeOptions

    @Option(help: ArgumentHelp("sample, sample:N, dir:PATH or api.", valueName: "source"))
    var source: String = "sample"

    @Option(help: "Only meetings of this congress.")
    var congress: Int?

    @Option(
        name: .customLong("lookback-days"),
        help: "Only meetings updated within this many days (default: no filter).")
    var lookbackDays: Int?

    @Option(
        name: .customLong("batch-size"), help: "Meetings per batch (env BATCH_PROCESSING_SIZE, default 50).")
    var batchSize: Int?

    @Flag(name: .customLong("atomic-run"), help: "All or nothing: undo the whole run if any batch fails.")
    var atomicRun = false

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func validate() throws {
        if IngestOptions.Source(argument: source) == nil {
            throw ValidationError("--source must be sample, sample:N, dir:PATH or api (got \"\(source)\")")
        }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let lookbackDays, lookbackDays < 0 {
            throw ValidationError("--lookback-days must not be negative")
        }
        if let congress, congress < 1 { throw ValidationError("--congress must be positive") }
        if batchSize == nil, let text = environment("BATCH_PROCESSING_SIZE"), (Int(text) ?? 0) < 1 {
            throw ValidationError("BATCH_PROCESSING_SIZE must be a positive integer (got \"\(text)\")")
        }
    }

    func run() throws {
        var options = IngestOptions()
        options.source = IngestOptions.Source(argument: source) ?? .sample(day: nil)
        options.congress = congress
        options.lookbackDays = lookbackDays
        options.batchSize = batchSize ?? environment("BATCH_PROCESSING_SIZE").flatMap { Int($0) } ?? 50
        options.atomic = atomicRun || environment("ENABLE_BATCH_PROCESSING")?.lowercased() == "false"
        let metrics = try withSession(home: home, command: "ingest") { session in
            try session.ingest(options) { line in if isatty(2) != 0 { printError(line) } }
        }
        switch format {
        case .json: print(try jsonText(metrics))
        case .text: printSummary(metrics)
        }
        if metrics.errorCount > 0 || metrics.batchProcessing.batchesFailed > 0 { throw ExitCode(3) }
    }

    private func printSummary(_ metrics: IngestMetrics) {
        print("run \(metrics.runID) from \(metrics.source): \(metrics.hearingsChecked) meetings checked")
        print(
            "  \(metrics.hearingsAdded) added, \(metrics.hearingsUpdated) updated, \(metrics.hearingsUnchanged) unchanged; "
                + "\(metrics.committeesUpdated) committee rows, \(metrics.witnessesUpdated) new witnesses; "
                + "\(metrics.mutations) row changes")
        let batches = metrics.batchProcessing
        print(
            "  batches: \(batches.batchCount) (\(batches.batchesSucceeded) committed, \(batches.batchesFailed) failed)"
                + (metrics.batchIDs.isEmpty
                    ? "" : " ids \(metrics.batchIDs.map(String.init).joined(separator: ", "))"))
        for error in batches.batchErrors { print("  failed: \(error)") }
        if !metrics.compensatedBatchIDs.isEmpty {
            print(
                "  atomic run undone: batches \(metrics.compensatedBatchIDs.map(String.init).joined(separator: ", "))"
            )
        }
        if !metrics.validationIssues.isEmpty {
            print("  rejected: \(metrics.validationIssues.count) problems")
            for issue in metrics.validationIssues.prefix(20) {
                print("    \(issue.item): \(issue.field): \(issue.problem)")
            }
            if metrics.validationIssues.count > 20 { print("    … (--format json lists all)") }
        }
        if let recovery = metrics.recovery {
            for action in recovery.actions { print("  recovery: \(action)") }
        }
        print(
            "  state checksum \(metrics.stateChecksum); journal positions \(metrics.journalFirstPosition)…\(metrics.journalLastPosition - 1)"
        )
    }
}

struct RecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Crash-recovery replay: bring the database and the journal to one consistent state.",
        discussion: """
            Every writing command runs recovery first; this command runs only that and reports. It reads
            the journal from the database's checkpoint: intents without outcomes are resolved from the
            database's marker rows, interrupted compensations are finished, interrupted atomic runs are
            undone, an older database copy is brought forward; a database ahead of its journal is refused.
            """
    )

    @OptionGroup var home: HomeOptions

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() throws {
        let report = try withSession(home: home, command: "recover") { $0.recovery }
        switch format {
        case .json: print(try jsonText(report))
        case .text:
            print("read \(report.eventsRead) journal events from position \(report.fromPosition)")
            if report.tornBytesCut > 0 { print("cut a torn journal tail of \(report.tornBytesCut) bytes") }
            for action in report.actions { print(action) }
            print(report.changedSomething ? "recovered" : "nothing to recover")
        }
    }
}

/// Opens a session (lock, database, journal, recovery), runs `body`, closes it.
func withSession<T>(home: HomeOptions, command: String, _ body: (Session) throws -> T) throws -> T {
    do {
        let session = try Session(home: DataHome(path: home.path), command: command)
        let result: T
        do {
            result = try body(session)
        } catch {
            try? session.close()
            throw error
        }
        try session.close()
        return result
    } catch let error as UpdaterError {
        printError("error: \(error.message)")
        throw ExitCode(error.exitCode)
    }
}

/// A pretty, sorted JSON document.
func jsonText<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
