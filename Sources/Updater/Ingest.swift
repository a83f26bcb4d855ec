import Congress
import Foundation
import GRDB
import Journal
import Store

/// What `hearings ingest` reads and how it applies it.
public struct IngestOptions: Sendable {
    /// Where meetings come from.
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        /// The bundled sample; `nil`: the first day not yet ingested into this data home.
        case sample(day: Int?)
        /// Every Congress.gov JSON document under a folder.
        case directory(String)
        /// The live Congress.gov API.
        case api

        public var description: String {
            switch self {
            case .sample(let day): return day.map { "sample:\($0)" } ?? "sample"
            case .directory(let path): return "dir:\(path)"
            case .api: return "api"
            }
        }

        /// Parses `sample`, `sample:N`, `dir:PATH` or `api`.
        public init?(argument: String) {
            if argument == "sample" {
                self = .sample(day: nil)
            } else if argument.hasPrefix("sample:"), let day = Int(argument.dropFirst(7)), day > 0 {
                self = .sample(day: day)
            } else if argument.hasPrefix("dir:"), argument.count > 4 {
                self = .directory(String(argument.dropFirst(4)))
            } else if argument == "api" {
                self = .api
            } else {
                return nil
            }
        }
    }

    public var source: Source = .sample(day: nil)
    /// Only meetings of this congress (default: all).
    public var congress: Int?
    /// Only meetings updated within this many days (default: no filter).
    public var lookbackDays: Int?
    /// Meetings per batch.
    public var batchSize = 50
    /// All-or-nothing: if any batch fails, every batch this run committed is compensated.
    public var atomic = false
    /// How to reach Congress.gov; required by ``Source/api`` (it carries the key).
    public var api: CongressAPIConfiguration?
    /// The API client's retries and failures as they happen, for the logs (called from any thread).
    public var apiEvents: @Sendable (CongressAPIEvent) -> Void = { _ in }

    /// The congress the live source lists when none is given.
    public static let defaultAPICongress = 119
    /// The look-back window of the live source when none is given, in days.
    public static let defaultAPILookbackDays = 7
    /// Run-health thresholds and what a critical anomaly does (`Session+RunHealth.swift`).
    public var health = HealthPolicy()

    /// The defaults: the sample's next day, no filters, batches of 50, not atomic.
    public init() {}
}

/// What an ingest run reports while it works, for a progress indicator and for the logs. Only
/// identifiers and counts (and the reasons already journaled), never a URL or a key.
public enum IngestProgress: Sendable {
    /// The source is read and validated: `meetings` meetings to apply in `batches` batches.
    case started(runID: Int64, source: String, meetings: Int, batches: Int)
    /// An item was left out, with the reason (journaled as `rejected`).
    case rejected(runID: Int64, issue: IngestMetrics.Issue)
    /// The committee reference batch ended; nil when it had nothing to change.
    case committees(runID: Int64, batch: IngestMetrics.Batch?)
    /// Meeting batch `number` (1-based) of `count`, carrying `meetings` meetings, ended; `batch` is nil
    /// when it had nothing to change (no batch is written then).
    case batch(runID: Int64, number: Int, count: Int, meetings: Int, batch: IngestMetrics.Batch?)
    /// An atomic run undid one of its batches; `batch` is the compensation (its `compensates` names
    /// the batch undone).
    case compensated(runID: Int64, batch: IngestMetrics.Batch)
    /// The run is journaled as finished with `status` (`ok`, `partial`, `aborted`, or `reverted` when
    /// a critical anomaly undid it).
    case finished(runID: Int64, status: String)
}

extension Session {
    /// The daily ingest run: reads the source, validates each meeting, maps and diffs it, and commits
    /// batches of meetings with the write protocol; rejected items and failed batches are journaled
    /// and counted, and the run goes on (or, with `atomic`, undoes everything it committed).
    ///
    /// Failures while staging one meeting (inside its savepoint) are sorted by what they leave behind:
    /// the meeting's own problems (mapping, diff, a before-image conflict, a SQLite constraint) reject
    /// that meeting alone; anything else SQLite raises (full disk, I/O error, out of memory, busy …)
    /// may have rolled back the whole transaction, so the batch fails as a whole (see `isItemFailure`).
    ///
    /// - Parameter progress: called as the run advances (for a progress indicator and the logs).
    public func ingest(_ options: IngestOptions, progress: (IngestProgress) -> Void = { _ in }) throws
        -> IngestMetrics
    {
        let started = Date()
        var metrics = IngestMetrics()
        metrics.startTime = rfc3339Milliseconds(started)
        metrics.batchProcessing.enabled = !options.atomic
        let source = try resolve(options.source)
        metrics.source = source.description
        var contents: SourceContents
        var congressFilter = options.congress
        var lookbackDays = options.lookbackDays
        switch source {
        case .sample(let day): contents = try BundledSample.read(day: day ?? 1)
        case .directory(let path): contents = try DocumentSource.read(folder: path)
        case .api:
            let fetched = try readAPI(options)
            contents = fetched.contents
            metrics.apiRequests = fetched.requests
            metrics.errors += fetched.errors
            congressFilter = options.congress ?? IngestOptions.defaultAPICongress
            lookbackDays = options.lookbackDays ?? IngestOptions.defaultAPILookbackDays
        }
        var startEvent = RunStarted(
            runID: 0, command: "ingest", source: source.description, congress: congressFilter,
            lookbackDays: lookbackDays, batchSize: options.batchSize, atomic: options.atomic)
        startEvent.runID = 0
        let runID = try startRun(startEvent, extraKeys: ["source:\(source.description)"])
        runLedger = RunLedger(runID: runID)
        defer { runLedger = nil }
        metrics.runID = runID
        metrics.journalFirstPosition = UInt64(runID)

        var rejected: [Rejected] = []
        func note(_ item: String, _ field: String, _ problem: String) {
            rejected.append(Rejected(runID: runID, batchID: nil, item: item, field: field, problem: problem))
            let issue = IngestMetrics.Issue(item: item, field: field, problem: problem)
            metrics.validationIssues.append(issue)
            progress(.rejected(runID: runID, issue: issue))
        }

        // Meetings, first pass: each document's summary only (decode errors, filters, duplicates,
        // order). A meeting is read in full, validated and mapped when its batch starts (the second
        // pass, below), so memory holds one batch of documents however large the run.
        let now = Date()
        var valid: [PlannedMeeting] = []
        // At most one per candidate: reserved once, the list never grows by copying itself.
        valid.reserveCapacity(contents.candidates.count)
        var seen: [String: Int] = [:]
        for candidate in contents.candidates {
            let summary: MeetingSummary
            switch candidate.summary {
            case .failure(let error):
                note(candidate.item, error.field.isEmpty ? "(document)" : error.field, error.problem)
                continue
            case .success(let found): summary = found
            }
            if let congress = congressFilter, summary.congress != congress { continue }
            // The live source's window was applied by the API (by the list's update dates); a detail
            // updated since the list was read is still this run's.
            if source != .api, let days = options.lookbackDays, let updated = summary.updateDate?.date,
                updated < now.addingTimeInterval(-Double(days) * 86_400)
            {
                continue
            }
            metrics.hearingsChecked += 1
            let planned = PlannedMeeting(summary, candidate)
            if let earlier = seen[summary.eventId] {
                // The same meeting twice in one run: keep the later version (then the earlier file). The
                // version kept is validated with its batch; if it fails, the meeting is rejected.
                let kept = valid[earlier]
                let newer = planned.updated > kept.updated
                let loser = newer ? kept.origin : candidate.origin
                note(
                    summary.eventId, "eventId",
                    "duplicate event id in this run: \(loser) ignored, "
                        + "\(newer ? candidate.origin : kept.origin) kept (the later updateDate)")
                if newer { valid[earlier] = planned }
                continue
            }
            seen[summary.eventId] = valid.count
            valid.append(planned)
        }
        contents.candidates = []
        seen = [:]
        for problem in contents.problems { note(problem.item, problem.field, problem.problem) }
        valid.sort { ($0.updated, $0.eventID) < ($1.updated, $1.eventID) }
        let batchSize = max(1, options.batchSize)
        let batchCount = (valid.count + batchSize - 1) / batchSize
        progress(
            .started(runID: runID, source: source.description, meetings: valid.count, batches: batchCount))

        // The second pass of each batch is prepared while the batch before it is written: it does not
        // touch the database, and on a machine with more than one core reading and mapping (most of the
        // run's CPU) then overlaps the batch's SQLite and journal work. One batch ahead at most, so
        // memory still holds one batch of documents being prepared and one being written.
        func prepare(_ index: Int) -> Handoff<[SecondPass]>? {
            let start = index * batchSize
            guard start < valid.count else { return nil }
            let planned = Array(valid[start..<min(valid.count, start + batchSize)])
            let handoff = Handoff<[SecondPass]>()
            DispatchQueue.global().async { handoff.set(concurrentMap(planned, Self.secondPass)) }
            return handoff
        }
        var upcoming = prepare(0)
        // A run that stops early (an atomic run's failed batch, an error) still waits for the batch being
        // prepared: nothing of the run may read the source after it returns.
        defer { _ = upcoming?.wait() }

        // Committee reference data first: meetings link to these rows.
        let congress = options.congress ?? mostCommonCongress(valid.map(\.congress)) ?? 119
        var committees: [MappedCommittee] = []
        for item in contents.committees {
            do {
                committees.append(try MappedCommittee(item, congress: congress))
            } catch let error as MappingError {
                for issue in error.issues {
                    note(item.systemCode ?? "(committee)", issue.field, issue.problem)
                }
            }
        }
        var committed: [Int64] = []
        var failedBatch = false
        if !committees.isEmpty {
            let timestamp = self.timestamp()
            let carried = rejected
            rejected = []
            var prepared = false
            let batchStarted = Date()
            let report = try commitBatch(runID: runID, items: committees.map(\.systemCode)) { db in
                var allocator = RowIDAllocator()
                let mutations = try CommitteeDiffer(timestamp: timestamp).mutations(
                    for: committees, in: db, allocator: &allocator)
                try Store.apply(mutations, db)
                prepared = true
                return PreparedBatch(mutations: mutations, rejected: carried)
            }
            if report.result == .failed && !prepared { try reject(carried, batchID: report.batchID) }
            let entry = record(
                report, items: committees.count, started: batchStarted, into: &metrics,
                committed: &committed, failed: &failedBatch)
            metrics.committeesUpdated +=
                report.result == .committed
                ? report.mutations.filter { $0.table == Schema.committees.name }.count : 0
            progress(.committees(runID: runID, batch: entry))
        }

        // Meetings, in batches.
        for number in 0..<batchCount {
            if options.atomic && failedBatch { break }
            // The second pass: this batch's meetings read in full, validated and mapped; a meeting that
            // fails is rejected here and its rejection travels with this batch.
            var batch: [(eventID: String, mapped: MappedMeeting)] = []
            let outcomes = upcoming?.wait() ?? []
            upcoming = prepare(number + 1)
            for outcome in outcomes {
                switch outcome {
                case .mapped(let eventID, let mapped): batch.append((eventID, mapped))
                case .rejected(let issues):
                    for issue in issues { note(issue.item, issue.field, issue.problem) }
                }
            }
            // commitBatch gives the batch this id; the fault seam names batches by it.
            let batchID = nextBatchID
            let timestamp = self.timestamp()
            var added = 0
            var updated = 0
            var unchanged = 0
            var witnesses = 0
            // Rejections made before this batch travel with its intent (or its failure).
            let carried = rejected
            rejected = []
            var itemRejections: [Rejected] = []
            var prepared = false
            let batchStarted = Date()
            let report = try commitBatch(runID: runID, items: batch.map(\.eventID)) { db in
                var allocator = RowIDAllocator()
                let differ = try MeetingDiffer(timestamp: timestamp)
                var mutations: [Mutation] = []
                var attempted = 0
                (added, updated, unchanged, witnesses) = (0, 0, 0, 0)
                itemRejections = []
                for item in batch {
                    // A meeting rolled back to its savepoint must not leave rows it created (witnesses,
                    // committees) in the allocator's memory: the next meeting would link to them.
                    let savedAllocator = allocator
                    do {
                        var changes: [Mutation] = []
                        try db.inSavepoint {
                            changes = try differ.mutations(for: item.mapped, in: db, allocator: &allocator)
                            let first = attempted
                            attempted += changes.count
                            if let mutationFault {
                                for offset in changes.indices {
                                    try mutationFault(batchID, first + offset + 1)
                                }
                            }
                            try Store.apply(changes, db)
                            return .commit
                        }
                        if changes.isEmpty {
                            unchanged += 1
                        } else if changes.contains(where: {
                            $0.table == Schema.hearings.name && $0.kind == .insert
                        }) {
                            added += 1
                        } else {
                            updated += 1
                        }
                        witnesses += changes.filter { $0.table == Schema.witnesses.name }.count
                        mutations += changes
                    } catch {
                        allocator = savedAllocator
                        // An error that may have ended the transaction fails the whole batch: rethrown,
                        // commitBatch rolls back and journals `failed` with this reason.
                        guard Self.isItemFailure(error, db) else { throw error }
                        let problem =
                            (error as? DatabaseError).map {
                                "SQLite refused the meeting's rows: \($0.message ?? "error \($0.resultCode)")"
                            } ?? describe(error)
                        itemRejections.append(
                            Rejected(
                                runID: runID, batchID: nil, item: item.eventID, field: "(rows)",
                                problem: problem))
                        let issue = IngestMetrics.Issue(
                            item: item.eventID, field: "(rows)", problem: problem)
                        metrics.validationIssues.append(issue)
                        progress(.rejected(runID: runID, issue: issue))
                    }
                }
                prepared = true
                return PreparedBatch(mutations: mutations, rejected: carried + itemRejections)
            }
            // A batch that failed before its intent was written has not journaled its rejections yet.
            if report.result == .failed && !prepared {
                try reject(carried + itemRejections, batchID: report.batchID)
            }
            metrics.hearingsAdded += report.result == .committed ? added : 0
            metrics.hearingsUpdated += report.result == .committed ? updated : 0
            metrics.hearingsUnchanged += report.result == .committed ? unchanged : 0
            metrics.witnessesUpdated += report.result == .committed ? witnesses : 0
            let entry = record(
                report, items: batch.count, started: batchStarted, into: &metrics, committed: &committed,
                failed: &failedBatch)
            progress(
                .batch(
                    runID: runID, number: number + 1, count: batchCount, meetings: batch.count, batch: entry))
        }
        try reject(rejected)
        valid = []

        if options.atomic && failedBatch {
            for batchID in committed.reversed() {
                let undoStarted = Date()
                let reason = "atomic run: a batch failed"
                let undone = try compensate(batch: batchID, runID: runID, reason: reason)
                metrics.compensatedBatchIDs.append(batchID)
                let entry = IngestMetrics.Batch(
                    batchID: undone.batchID, items: 0, mutations: undone.mutations.count,
                    outcome: undone.result.rawValue,
                    durationMilliseconds: elapsedMilliseconds(since: undoStarted),
                    reason: reason, compensates: batchID)
                metrics.batches.append(entry)
                progress(.compensated(runID: runID, batch: entry))
            }
            metrics.hearingsAdded = 0
            metrics.hearingsUpdated = 0
            metrics.committeesUpdated = 0
            metrics.witnessesUpdated = 0
            metrics.changes = RunChanges()
        }
        metrics.validationPassed = metrics.validationIssues.isEmpty
        metrics.errorCount = metrics.errors.count + metrics.validationIssues.count
        metrics.endTime = rfc3339Milliseconds(Date())
        metrics.durationSeconds = (Date().timeIntervalSince(started) * 1000).rounded() / 1000
        metrics.stateChecksum = checksum.description
        metrics.recovery = recovery.changedSomething ? recovery : nil
        let status = options.atomic && failedBatch ? "aborted" : (metrics.errorCount > 0 ? "partial" : "ok")
        metrics.journalLastPosition = journal.nextPosition
        // Alerts, the reaction to a critical anomaly, and `run_finished`.
        let finalStatus = try finishIngestRun(
            runID: runID, status: status, metrics: &metrics, policy: options.health, progress: progress)
        progress(.finished(runID: runID, status: finalStatus))
        return metrics
    }

    /// Reads the live source: the window ends now (the session's clock) and starts `lookbackDays`
    /// before; committees are fetched for the codes the database lacks. Blocks until done.
    private func readAPI(_ options: IngestOptions) throws -> CongressAPISource.Result {
        guard let configuration = options.api else {
            throw UpdaterError(
                .failure, "--source api needs a Congress.gov API key: set CONGRESS_API_KEY (or API_KEY)")
        }
        let end = now()
        let start = end.addingTimeInterval(
            -Double(options.lookbackDays ?? IngestOptions.defaultAPILookbackDays) * 86_400)
        let congress = options.congress ?? IngestOptions.defaultAPICongress
        let known = try store.queue.read { db in
            Set(try String.fetchAll(db, sql: "SELECT system_code FROM \(Schema.committees.name)"))
        }
        let source = CongressAPISource(client: CongressAPIClient(configuration, events: options.apiEvents))
        return try waitFor {
            try await source.read(congress: congress, from: start, to: end, knownCommittees: known)
        }
    }

    /// Whether `error`, raised while one meeting was being staged inside its savepoint, condemns that
    /// meeting alone. Yes for the meeting's own problems: mapping and diff errors, a before-image
    /// conflict, and SQLite refusing its rows (a constraint, a datatype mismatch, a value too big) —
    /// SQLite undid only the statement and the transaction stands. No for every other SQLite error
    /// (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM, SQLITE_BUSY, SQLITE_CORRUPT …): after those SQLite may
    /// have rolled back the whole transaction (sqlite.org/lang_transaction.html, "Response To Errors
    /// Within A Transaction"), so going on would stage the rest of the batch outside any transaction or
    /// commit half of it; nor when the transaction is gone, whatever the error.
    static func isItemFailure(_ error: any Error, _ db: Database) -> Bool {
        guard db.isInsideTransaction else { return false }
        guard let error = error as? DatabaseError else { return true }
        switch error.resultCode {
        case .SQLITE_CONSTRAINT, .SQLITE_MISMATCH, .SQLITE_TOOBIG: return true
        default: return false
        }
    }

    /// Counts a batch `commitBatch` ended and returns its metrics entry (nil when it had nothing to
    /// change: no batch was written).
    private func record(
        _ report: BatchReport, items: Int, started: Date, into metrics: inout IngestMetrics,
        committed: inout [Int64], failed: inout Bool
    ) -> IngestMetrics.Batch? {
        guard report.batchID > 0 else { return nil }
        metrics.batchProcessing.batchCount += 1
        metrics.batchIDs.append(report.batchID)
        metrics.mutations += report.result == .committed ? report.mutations.count : 0
        if report.result == .committed {
            metrics.batchProcessing.batchesSucceeded += 1
            committed.append(report.batchID)
            metrics.changes?.count(report.mutations)
        } else {
            metrics.batchProcessing.batchesFailed += 1
            let message = "batch \(report.batchID): \(report.reason ?? "failed")"
            metrics.batchProcessing.batchErrors.append(message)
            metrics.errors.append(message)
            failed = true
        }
        let entry = IngestMetrics.Batch(
            batchID: report.batchID, items: items, mutations: report.mutations.count,
            outcome: report.result.rawValue, durationMilliseconds: elapsedMilliseconds(since: started),
            reason: report.result == .committed ? nil : (report.reason ?? "failed"))
        metrics.batches.append(entry)
        return entry
    }

    /// Journals `items` as rejected in batch `batchID` (deferred, like `reject`).
    private func reject(_ items: [Rejected], batchID: Int64) throws {
        try reject(
            items.map {
                var tagged = $0
                tagged.batchID = batchID
                return tagged
            })
    }

    /// Milliseconds since `start`, to a tenth (a small batch takes a few milliseconds).
    private func elapsedMilliseconds(since start: Date) -> Double {
        (Date().timeIntervalSince(start) * 10_000).rounded() / 10
    }

    /// The source with `sample` resolved to a day: the first day no earlier run of this data home
    /// ingested (found through the journal index), or the last day when all were.
    func resolve(_ source: IngestOptions.Source) throws -> IngestOptions.Source {
        guard case .sample(nil) = source else { return source }
        let days = BundledSample.days()
        for day in days where try journal.entries(withKey: "source:sample:\(day)").isEmpty {
            return .sample(day: day)
        }
        return .sample(day: days.last ?? 1)
    }

    private func mostCommonCongress(_ congresses: [Int]) -> Int? {
        var counts: [Int: Int] = [:]
        for congress in congresses { counts[congress, default: 0] += 1 }
        return counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
    }
}

/// A meeting that passed validation and mapping: what its batch needs, and its place in the run's order.
/// A meeting of the run's first pass: its order and identity, and the candidate to read it from.
/// What the second pass made of one planned meeting: its rows, or why it is rejected.
private enum SecondPass: Sendable {
    case mapped(eventID: String, MappedMeeting)
    case rejected([IngestMetrics.Issue])
}

extension Session {
    /// Reads one planned meeting in full, checks it is still the meeting the first pass saw, validates
    /// and maps it. Free of side effects, so a batch's meetings are prepared on every core: reading,
    /// decoding and mapping are most of an ingest's work, and the database is not involved.
    fileprivate static func secondPass(_ planned: PlannedMeeting) -> SecondPass {
        let meeting: CommitteeMeeting
        switch planned.load() {
        case .failure(let error):
            return .rejected([
                IngestMetrics.Issue(
                    item: error.eventId ?? planned.eventID,
                    field: error.field.isEmpty ? "(document)" : error.field,
                    problem: error.problem)
            ])
        case .success(let loaded): meeting = loaded
        }
        guard meeting.eventId == planned.eventID else {
            return .rejected([
                IngestMetrics.Issue(
                    item: planned.eventID, field: "eventId",
                    problem:
                        "\(planned.origin) changed during the run: it now holds meeting \(meeting.eventId)")
            ])
        }
        let problems = MeetingValidator.problems(of: meeting)
        if !problems.isEmpty {
            return .rejected(
                problems.map {
                    IngestMetrics.Issue(item: meeting.eventId, field: $0.field, problem: $0.problem)
                })
        }
        do {
            return .mapped(eventID: meeting.eventId, try MappedMeeting(meeting))
        } catch let error as MappingError {
            return .rejected(
                error.issues.map {
                    IngestMetrics.Issue(item: meeting.eventId, field: $0.field, problem: $0.problem)
                })
        } catch {
            return .rejected([
                IngestMetrics.Issue(item: meeting.eventId, field: "(document)", problem: "\(error)")
            ])
        }
    }
}

private struct PlannedMeeting: Sendable {
    var eventID: String
    var congress: Int
    var updated: Date
    var origin: String
    /// Reads the whole meeting from `origin` (the candidate's reader, shared by the source's
    /// candidates: the rest of the candidate is not kept).
    var reader: @Sendable (String) -> Result<CommitteeMeeting, CongressDecodingError>

    init(_ summary: MeetingSummary, _ candidate: Candidate) {
        eventID = summary.eventId
        congress = summary.congress
        updated = summary.updateDate?.date ?? .distantPast
        origin = candidate.origin
        reader = candidate.reader
    }

    /// The whole meeting, read again.
    func load() -> Result<CommitteeMeeting, CongressDecodingError> { reader(origin) }
}

/// Runs `body` to completion and returns its result, blocking the calling thread: the ingest run is
/// synchronous (it owns a non-Sendable session), the HTTP client asynchronous. Never call it from a
/// task of the cooperative pool: the pool could be starved of the thread `body` needs.
func waitFor<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let handoff = Handoff<Result<T, any Error>>()
    Task {
        do { handoff.set(.success(try await body())) } catch { handoff.set(.failure(error)) }
    }
    guard let outcome = handoff.wait() else { throw CancellationError() }
    return try outcome.get()
}
