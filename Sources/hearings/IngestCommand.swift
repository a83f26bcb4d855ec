import ArgumentParser
import Congress
import Foundation
import Logging
import Updater

#if canImport(Glibc)
    import Glibc
#endif

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "The daily ingest run: apply changed meetings in journaled, all-or-nothing batches.",
        discussion: """
            Sources: `sample` (default) is the bundled real data, two days of Congress.gov documents of the \
            119th Congress: the first run of a data home ingests day 1, the next run day 2 (the real \
            updates), later runs day 2 again (nothing changes). `sample:N` picks day N. `dir:PATH` reads \
            every *.json Congress.gov document under PATH (meeting details; committee lists and committee \
            details are used as reference data). `api` is the live Congress.gov API: the meetings of
            --congress (default 119) updated in the last --lookback-days (default 7), with the details of \
            committees the database lacks.

            Every batch is journaled (with the rows before and after) and durable before it commits. An \
            invalid meeting is rejected alone with its reasons; a failed batch does not stop the run, \
            unless --atomic-run, which then undoes every batch the run committed.

            Environment: BATCH_PROCESSING_SIZE (default 50); ENABLE_BATCH_PROCESSING=false means \
            --atomic-run. Flags win over the environment. For --source api: CONGRESS_API_KEY (or \
            API_KEY) holds the key (required; never logged); CONGRESS_API_BASE_URL the API root (default \
            https://api.congress.gov/v3); CONGRESS_API_CONCURRENCY detail requests at once (default 4, \
            at most 16); CONGRESS_API_TIMEOUT seconds per request (default 30).

            Output: a summary (or, with --format json, the metrics document) on standard output; logs on \
            standard error and appended to DIR/logs/daily_update_YYYYMMDD.log (UTC date); a progress line \
            on standard error when it is a terminal.

            Run health: every run is compared with the recent runs of the same kind of source (from the \
            journal) and checked; alerts (failure, rejection and API error rates, duration, counts far \
            outside history, problems in what it journaled) are printed, logged and journaled. With \
            --on-anomaly revert (env HEARINGS_ON_ANOMALY=revert) a run that raises a critical anomaly \
            (meetings deleted or titles changed far above history) is undone at once.

            Exit status: 0 all applied; 3 the run finished but some meetings or batches failed, or it \
            raised alerts; 6 the run raised a critical anomaly and was undone (--on-anomaly revert); 1 the \
            run could not run or stopped (another writer, journal I/O error …); 64 usage error.
            """
    )

    @OptionGroup var home: HomeOptions

    @Option(help: ArgumentHelp("sample, sample:N, dir:PATH or api.", valueName: "source"))
    var source: String = "sample"

    @Option(help: "Only meetings of this congress.")
    var congress: Int?

    @Option(
        name: .customLong("lookback-days"),
        help: "Only meetings updated within this many days (default: no filter; 7 for --source api).")
    var lookbackDays: Int?

    @Option(
        name: .customLong("batch-size"), help: "Meetings per batch (env BATCH_PROCESSING_SIZE, default 50).")
    var batchSize: Int?

    @Flag(name: .customLong("atomic-run"), help: "All or nothing: undo the whole run if any batch fails.")
    var atomicRun = false

    @Flag(
        name: .customLong("no-snapshot"),
        help:
            "Skip the snapshot policy (by default a snapshot is taken first when the newest is over 24 h old)."
    )
    var noSnapshot = false

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @OptionGroup(title: "Run health") var health: HealthOptions

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
        if let text = environment("CONGRESS_API_CONCURRENCY"), !(1...16).contains(Int(text) ?? 0) {
            throw ValidationError(
                "CONGRESS_API_CONCURRENCY must be an integer from 1 to 16 (got \"\(text)\")")
        }
        if let text = environment("CONGRESS_API_TIMEOUT"), !((Double(text) ?? 0) > 0) {
            throw ValidationError(
                "CONGRESS_API_TIMEOUT must be a positive number of seconds (got \"\(text)\")")
        }
        if let text = environment("HEARINGS_NOW"), Self.instant(text) == nil {
            throw ValidationError("HEARINGS_NOW must be a time like 2025-10-02T06:00:00Z (got \"\(text)\")")
        }
    }

    /// The live source's configuration from the environment. Checked before anything is opened, so a
    /// missing key stops the run before it touches the data home.
    private func apiConfiguration() throws -> CongressAPIConfiguration {
        var variables: [String: String] = [:]
        for name in ["CONGRESS_API_KEY", "API_KEY"] { variables[name] = environment(name) }
        guard let key = CongressAPIKey.fromEnvironment(variables) else {
            printError(
                "error: --source api needs a Congress.gov API key: set CONGRESS_API_KEY (or API_KEY); "
                    + "sign up at https://api.congress.gov/sign-up/")
            throw ExitCode(1)
        }
        let base = environment("CONGRESS_API_BASE_URL") ?? CongressAPIConfiguration.defaultBaseURL
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(),
            ["http", "https"].contains(scheme),
            url.host != nil, url.query == nil
        else {
            // The value is not echoed: a key pasted into the wrong variable must not reach the terminal.
            printError(
                "error: CONGRESS_API_BASE_URL must be an http(s) URL without a query, like \(CongressAPIConfiguration.defaultBaseURL)"
            )
            throw ExitCode(1)
        }
        var configuration = CongressAPIConfiguration(baseURL: url, apiKey: key)
        if let text = environment("CONGRESS_API_CONCURRENCY"), let value = Int(text) {
            configuration.concurrency = value
        }
        if let text = environment("CONGRESS_API_TIMEOUT"), let value = Double(text) {
            configuration.requestTimeout = value
        }
        return configuration
    }

    /// `text` as an instant: RFC 3339 with a `Z` or an offset, seconds optional fractions.
    static func instant(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    func run() throws {
        var options = IngestOptions()
        options.source = IngestOptions.Source(argument: source) ?? .sample(day: nil)
        options.congress = congress
        options.lookbackDays = lookbackDays
        options.batchSize = batchSize ?? environment("BATCH_PROCESSING_SIZE").flatMap { Int($0) } ?? 50
        options.atomic = atomicRun || environment("ENABLE_BATCH_PROCESSING")?.lowercased() == "false"
        options.health = try health.policy()
        if options.source == .api { options.api = try apiConfiguration() }
        // A fixed "now" (tests, or replaying a past day's window): the API window and every timestamp
        // the run writes follow it.
        var clock: (@Sendable () -> Date)?
        if let fixed = environment("HEARINGS_NOW").flatMap(Self.instant) { clock = { fixed } }
        let sinks = HearingsLogging.bootstrap(home: home.path)
        let logger = Logger(label: "hearings.ingest")
        options.apiEvents = { event in Self.log(event, to: logger) }
        logger.info(
            "ingest run starting",
            metadata: [
                "home": "\(home.path)", "source": "\(options.source)", "batch_size": "\(options.batchSize)",
                "atomic": "\(options.atomic)",
            ])
        let progressLine = ProgressLine(sink: sinks.standardError)
        // A failure is printed once for humans (by withSession or ArgumentParser); the daily file gets it
        // too, without a second copy on standard error.
        let fileLogger = sinks.fileLogger(label: "hearings.ingest")
        let stopped: (String) -> Void = { message in
            progressLine.end()
            fileLogger.error("ingest run stopped", metadata: ["error": "\(message)"])
        }
        let metrics: IngestMetrics
        do {
            metrics = try withSession(
                home: home, command: "ingest", clock: clock, failure: stopped
            ) { session in
                let snapshot = noSnapshot ? nil : try session.applySnapshotPolicy()
                var metrics = try session.ingest(options) { event in
                    log(event, to: logger)
                    progressLine.update(event)
                }
                metrics.snapshot = snapshot?.name
                return metrics
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            progressLine.end()
            fileLogger.error("ingest run stopped", metadata: ["error": "\(error)"])
            throw error
        }
        progressLine.end()
        logger.info(
            metrics.batchProcessing.batchCount == 0
                ? "ingest run finished: nothing to change" : "ingest run finished",
            metadata: [
                "run_id": "\(metrics.runID)", "source": "\(metrics.source)",
                "checked": "\(metrics.hearingsChecked)", "api_requests": "\(metrics.apiRequests)",
                "added": "\(metrics.hearingsAdded)", "updated": "\(metrics.hearingsUpdated)",
                "unchanged": "\(metrics.hearingsUnchanged)", "mutations": "\(metrics.mutations)",
                "batches": "\(metrics.batchProcessing.batchCount)",
                "batches_failed": "\(metrics.batchProcessing.batchesFailed)",
                "rejected": "\(metrics.validationIssues.count)", "duration_s": "\(metrics.durationSeconds)",
                "state_checksum": "\(metrics.stateChecksum)",
            ])
        logAlerts(metrics, to: logger)
        switch format {
        case .json: print(try jsonText(metrics))
        case .text: printSummary(metrics)
        }
        if metrics.anomalyReverted { throw ExitCode(6) }
        if metrics.errorCount > 0 || metrics.batchProcessing.batchesFailed > 0 || !metrics.alerts.isEmpty {
            throw ExitCode(3)
        }
    }

    /// Each alert on standard error (and in the daily file): an error when critical, else a warning.
    private func logAlerts(_ metrics: IngestMetrics, to logger: Logger) {
        for alert in metrics.alerts {
            let metadata: Logger.Metadata = [
                "run_id": "\(metrics.runID)", "alert": "\(alert.name)", "value": "\(alert.value)",
                "threshold": "\(alert.threshold)", "message": "\(alert.message)",
            ]
            if alert.critical {
                logger.error("run health alert: critical", metadata: metadata)
            } else {
                logger.warning("run health alert", metadata: metadata)
            }
        }
        if metrics.anomalyReverted {
            logger.error(
                "run undone: critical anomaly",
                metadata: [
                    "run_id": "\(metrics.runID)",
                    "compensated": "\(metrics.compensatedBatchIDs.map(String.init).joined(separator: ","))",
                ])
        }
    }

    /// Logs what the API client reports: endpoints by path only (never a host, query or key).
    private static func log(_ event: CongressAPIEvent, to logger: Logger) {
        switch event {
        case .retrying(let endpoint, let attempt, let problem, let delay):
            logger.warning(
                "API request will be retried",
                metadata: [
                    "endpoint": "\(endpoint)", "attempt": "\(attempt)", "problem": "\(problem)",
                    "delay_s": "\((delay * 1000).rounded() / 1000)",
                ])
        case .failed(let endpoint, let problem):
            logger.error(
                "API request failed", metadata: ["endpoint": "\(endpoint)", "problem": "\(problem)"])
        }
    }

    /// Logs one step of the run: constant messages, identifiers and counts as metadata.
    private func log(_ event: IngestProgress, to logger: Logger) {
        switch event {
        case .started(let runID, let source, let meetings, let batches):
            logger.info(
                "source read",
                metadata: [
                    "run_id": "\(runID)", "source": "\(source)", "meetings": "\(meetings)",
                    "batches": "\(batches)",
                ])
        case .rejected(let runID, let issue):
            logger.warning(
                "item rejected",
                metadata: [
                    "run_id": "\(runID)", "item": "\(issue.item)", "field": "\(issue.field)",
                    "problem": "\(issue.problem)",
                ])
        case .committees(let runID, let batch):
            log(batch, runID: runID, extra: ["kind": "committees"], to: logger)
        case .batch(let runID, let number, let count, let meetings, let batch):
            let position: Logger.Metadata = ["number": "\(number)", "of": "\(count)"]
            if batch == nil {
                logger.debug(
                    "batch had nothing to change",
                    metadata: position.merging(["run_id": "\(runID)", "items": "\(meetings)"]) { $1 })
            }
            log(batch, runID: runID, extra: position, to: logger)
        case .compensated(let runID, let batch):
            logger.warning(
                "batch compensated",
                metadata: [
                    "run_id": "\(runID)", "batch_id": "\(batch.batchID)",
                    "compensates": "\(batch.compensates.map(String.init) ?? "")",
                    "mutations": "\(batch.mutations)", "reason": "\(batch.reason ?? "")",
                ])
        case .finished(let runID, let status):
            logger.debug(
                "run journaled as finished", metadata: ["run_id": "\(runID)", "status": "\(status)"])
        }
    }

    private func log(_ batch: IngestMetrics.Batch?, runID: Int64, extra: Logger.Metadata, to logger: Logger) {
        guard let batch else { return }
        var metadata: Logger.Metadata = [
            "run_id": "\(runID)", "batch_id": "\(batch.batchID)", "items": "\(batch.items)",
            "mutations": "\(batch.mutations)", "duration_ms": "\(batch.durationMilliseconds)",
        ]
        metadata.merge(extra) { $1 }
        if batch.outcome == "committed" {
            logger.info("batch committed", metadata: metadata)
        } else {
            metadata["reason"] = "\(batch.reason ?? "")"
            logger.error("batch failed", metadata: metadata)
        }
    }

    private func printSummary(_ metrics: IngestMetrics) {
        print("run \(metrics.runID) from \(metrics.source): \(metrics.hearingsChecked) meetings checked")
        if metrics.batchProcessing.batchCount == 0 {
            // Said in words: an operator reading a cron mail should not have to infer it from zeros.
            print(
                metrics.validationIssues.isEmpty
                    ? "  nothing to change: the data home already has this input"
                    : "  nothing to change: the data home already has every valid meeting of this input")
        }
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
        let otherErrors = metrics.errors.filter { !batches.batchErrors.contains($0) }
        if metrics.apiRequests > 0 { print("  API requests: \(metrics.apiRequests)") }
        for error in otherErrors.prefix(20) { print(LogText.sanitised("  error: \(error)")) }
        if otherErrors.count > 20 { print("  … (--format json lists all)") }
        if !metrics.compensatedBatchIDs.isEmpty && !metrics.anomalyReverted {
            print(
                "  atomic run undone: batches \(metrics.compensatedBatchIDs.map(String.init).joined(separator: ", "))"
            )
        }
        if !metrics.validationIssues.isEmpty {
            print("  rejected: \(metrics.validationIssues.count) problems")
            for issue in metrics.validationIssues.prefix(20) {
                // Escaped: a hostile file name or field must not drive the terminal.
                print(LogText.sanitised("    \(issue.item): \(issue.field): \(issue.problem)"))
            }
            if metrics.validationIssues.count > 20 { print("    … (--format json lists all)") }
        }
        if let recovery = metrics.recovery {
            for action in recovery.actions { print("  recovery: \(action)") }
        }
        for alert in metrics.alerts {
            print(
                LogText.sanitised(
                    "  \(alert.critical ? "CRITICAL" : "ALERT") \(alert.name): \(alert.message)"))
        }
        if metrics.anomalyReverted {
            print(
                "  run undone (critical anomaly, --on-anomaly revert): batches "
                    + metrics.compensatedBatchIDs.map(String.init).joined(separator: ", ") + " compensated")
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
            Every writing command runs recovery first; this command runs only that and reports. It reads \
            the journal from the database's checkpoint: intents without outcomes are resolved from the \
            database's marker rows, interrupted compensations are finished, interrupted atomic runs are \
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

/// Opens a session (lock, database, journal, recovery), runs `body`, closes it. An `UpdaterError` is
/// printed on standard error, handed to `failure` (for the log file) and turned into its exit status.
func withSession<T>(
    home: HomeOptions, command: String, clock: (@Sendable () -> Date)? = nil,
    failure: (String) -> Void = { _ in },
    _ body: (Session) throws -> T
) throws -> T {
    do {
        let session = try Session(
            home: DataHome(path: home.path), command: command, clock: clock ?? { Date() })
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
        failure(error.message)
        throw ExitCode(error.exitCode)
    }
}

/// A pretty, sorted JSON document.
func jsonText<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// The ingest run's progress on a terminal: one line, redrawn in place as batches end, and ended with
/// a newline. Nothing at all when standard error is not a terminal (cron, pipes, tests).
final class ProgressLine {
    private let sink: LogSink
    private var source = ""
    private var batches = 0
    private var batchesDone = 0
    private var meetings = 0
    private var meetingsDone = 0
    private var changes = 0
    private var failed = 0
    private var rejected = 0
    private var note = ""

    init(sink: LogSink) { self.sink = sink }

    /// Takes in one step of the run and redraws the line.
    func update(_ event: IngestProgress) {
        guard sink.isTerminal else { return }
        switch event {
        case .started(_, let source, let meetings, let batches):
            (self.source, self.meetings, self.batches) = (source, meetings, batches)
        case .rejected: rejected += 1
        case .committees(_, let batch):
            if let batch { count(batch) }
            note = "committees"
        case .batch(_, let number, _, let meetings, let batch):
            batchesDone = number
            meetingsDone += meetings
            if let batch { count(batch) }
            note = ""
        case .compensated(_, let batch):
            note = "undoing batch \(batch.compensates.map(String.init) ?? "?")"
        case .finished:
            note = ""
        }
        sink.showProgress(render())
    }

    /// Ends the line with a newline (once; no-op when nothing was shown).
    func end() { sink.endProgress() }

    private func count(_ batch: IngestMetrics.Batch) {
        if batch.outcome == "committed" { changes += batch.mutations } else { failed += 1 }
    }

    private func render() -> String {
        let width = terminalWidth() - 1
        let barWidth = 20
        let filled = batches == 0 ? barWidth : barWidth * batchesDone / batches
        var text =
            "\(source) [\(String(repeating: "#", count: filled))\(String(repeating: "-", count: barWidth - filled))]"
            + " \(batchesDone)/\(batches) batches  \(meetingsDone)/\(meetings) meetings  \(changes) changes"
        if failed > 0 { text += "  \(failed) failed" }
        if rejected > 0 { text += "  \(rejected) rejected" }
        if !note.isEmpty { text += "  (\(note))" }
        // Never wider than the terminal: a wrapped line could not be redrawn in place.
        return text.count > width ? String(text.prefix(width - 1)) + "…" : text
    }

    /// Standard error's terminal width (COLUMNS when the terminal does not say; 80 when neither does).
    private func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return max(20, Int(size.ws_col)) }
        return max(20, Int(environment("COLUMNS") ?? "") ?? 80)
    }
}
