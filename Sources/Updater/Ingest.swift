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

    /// The defaults: the sample's next day, no filters, batches of 50, not atomic.
    public init() {}
}

extension Session {
    /// The daily ingest run: reads the source, validates each meeting, maps and diffs it, and commits
    /// batches of meetings with the write protocol; rejected items and failed batches are journaled
    /// and counted, and the run goes on (or, with `atomic`, undoes everything it committed).
    ///
    /// - Parameter progress: called with a line for each batch (for a terminal).
    public func ingest(_ options: IngestOptions, progress: (String) -> Void = { _ in }) throws
        -> IngestMetrics
    {
        let started = Date()
        var metrics = IngestMetrics()
        metrics.startTime = rfc3339Milliseconds(started)
        metrics.batchProcessing.enabled = !options.atomic
        let source = try resolve(options.source)
        metrics.source = source.description
        let contents: SourceContents
        switch source {
        case .sample(let day): contents = try BundledSample.read(day: day ?? 1)
        case .directory(let path): contents = try DocumentSource.read(folder: path)
        case .api:
            throw UpdaterError(
                .failure,
                "the live Congress.gov source is not available in this build; use --source sample or dir:PATH"
            )
        }
        var startEvent = RunStarted(
            runID: 0, command: "ingest", source: source.description, congress: options.congress,
            lookbackDays: options.lookbackDays, batchSize: options.batchSize, atomic: options.atomic)
        startEvent.runID = 0
        let runID = try startRun(startEvent, extraKeys: ["source:\(source.description)"])
        metrics.runID = runID
        metrics.journalFirstPosition = UInt64(runID)

        var rejected: [Rejected] = []
        func note(_ item: String, _ field: String, _ problem: String) {
            rejected.append(Rejected(runID: runID, batchID: nil, item: item, field: field, problem: problem))
            metrics.validationIssues.append(IngestMetrics.Issue(item: item, field: field, problem: problem))
        }

        // Meetings: decode errors, filters, duplicates, validation, mapping.
        let now = Date()
        var valid: [(meeting: CommitteeMeeting, mapped: MappedMeeting, origin: String)] = []
        var seen: [String: Int] = [:]
        for candidate in contents.candidates {
            let meeting: CommitteeMeeting
            switch candidate.meeting {
            case .failure(let error):
                note(candidate.item, error.field.isEmpty ? "(document)" : error.field, error.problem)
                continue
            case .success(let decoded): meeting = decoded
            }
            if let congress = options.congress, meeting.congress != congress { continue }
            if let days = options.lookbackDays, let updated = meeting.updateDate?.date,
                updated < now.addingTimeInterval(-Double(days) * 86_400)
            {
                continue
            }
            metrics.hearingsChecked += 1
            let problems = MeetingValidator.problems(of: meeting)
            if !problems.isEmpty {
                for problem in problems { note(meeting.eventId, problem.field, problem.problem) }
                continue
            }
            let mapped: MappedMeeting
            do {
                mapped = try MappedMeeting(meeting)
            } catch let error as MappingError {
                for issue in error.issues { note(meeting.eventId, issue.field, issue.problem) }
                continue
            }
            if let earlier = seen[meeting.eventId] {
                // The same meeting twice in one run: keep the later version (then the earlier file).
                let kept = valid[earlier]
                let newer =
                    (meeting.updateDate?.date ?? .distantPast)
                    > (kept.meeting.updateDate?.date ?? .distantPast)
                let loser = newer ? kept.origin : candidate.origin
                note(
                    meeting.eventId, "eventId",
                    "duplicate event id in this run: \(loser) ignored, "
                        + "\(newer ? candidate.origin : kept.origin) kept (the later updateDate)")
                if newer { valid[earlier] = (meeting, mapped, candidate.origin) }
                continue
            }
            seen[meeting.eventId] = valid.count
            valid.append((meeting, mapped, candidate.origin))
        }
        for problem in contents.problems { note(problem.item, problem.field, problem.problem) }
        valid.sort {
            ($0.meeting.updateDate?.date ?? .distantPast, $0.meeting.eventId)
                < ($1.meeting.updateDate?.date ?? .distantPast, $1.meeting.eventId)
        }

        // Committee reference data first: meetings link to these rows.
        let congress = options.congress ?? mostCommonCongress(valid.map(\.meeting)) ?? 119
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
            let report = try commitBatch(runID: runID, items: committees.map(\.systemCode)) { db in
                var allocator = RowIDAllocator()
                let mutations = try CommitteeDiffer(timestamp: timestamp).mutations(
                    for: committees, in: db, allocator: &allocator)
                try Store.apply(mutations, db)
                return PreparedBatch(mutations: mutations, rejected: rejected)
            }
            rejected = []
            record(report, into: &metrics, committed: &committed, failed: &failedBatch)
            metrics.committeesUpdated +=
                report.result == .committed
                ? report.mutations.filter { $0.table == Schema.committees.name }.count : 0
            progress("committees: \(report.mutations.count) changes (\(report.result.rawValue))")
        }

        // Meetings, in batches.
        let batches = stride(from: 0, to: valid.count, by: max(1, options.batchSize)).map {
            Array(valid[$0..<min(valid.count, $0 + max(1, options.batchSize))])
        }
        for (number, batch) in batches.enumerated() {
            if options.atomic && failedBatch { break }
            let timestamp = self.timestamp()
            var added = 0
            var updated = 0
            var unchanged = 0
            var witnesses = 0
            let report = try commitBatch(runID: runID, items: batch.map(\.meeting.eventId)) { db in
                var allocator = RowIDAllocator()
                let differ = try MeetingDiffer(timestamp: timestamp)
                var mutations: [Mutation] = []
                var batchRejected = rejected
                (added, updated, unchanged, witnesses) = (0, 0, 0, 0)
                for item in batch {
                    // A meeting rolled back to its savepoint must not leave rows it created (witnesses,
                    // committees) in the allocator's memory: the next meeting would link to them.
                    let savedAllocator = allocator
                    do {
                        var changes: [Mutation] = []
                        try db.inSavepoint {
                            changes = try differ.mutations(for: item.mapped, in: db, allocator: &allocator)
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
                        let problem = "SQLite refused the meeting's rows: \(describe(error))"
                        batchRejected.append(
                            Rejected(
                                runID: runID, batchID: nil, item: item.meeting.eventId, field: "(rows)",
                                problem: problem))
                        metrics.validationIssues.append(
                            IngestMetrics.Issue(item: item.meeting.eventId, field: "(rows)", problem: problem)
                        )
                    }
                }
                return PreparedBatch(mutations: mutations, rejected: batchRejected)
            }
            rejected = []
            metrics.hearingsAdded += report.result == .committed ? added : 0
            metrics.hearingsUpdated += report.result == .committed ? updated : 0
            metrics.hearingsUnchanged += report.result == .committed ? unchanged : 0
            metrics.witnessesUpdated += report.result == .committed ? witnesses : 0
            record(report, into: &metrics, committed: &committed, failed: &failedBatch)
            progress(
                "batch \(number + 1)/\(batches.count): \(batch.count) meetings, \(report.mutations.count) changes "
                    + (report.batchID > 0
                        ? "(batch \(report.batchID) \(report.result.rawValue))" : "(nothing to change)"))
        }
        try reject(rejected)

        if options.atomic && failedBatch {
            for batchID in committed.reversed() {
                let undone = try compensate(
                    batch: batchID, runID: runID, reason: "atomic run: a batch failed")
                metrics.compensatedBatchIDs.append(batchID)
                progress("batch \(batchID) undone by batch \(undone.batchID) (atomic run)")
            }
            metrics.hearingsAdded = 0
            metrics.hearingsUpdated = 0
            metrics.committeesUpdated = 0
            metrics.witnessesUpdated = 0
        }
        metrics.validationPassed = metrics.validationIssues.isEmpty
        metrics.errorCount = metrics.errors.count + metrics.validationIssues.count
        metrics.endTime = rfc3339Milliseconds(Date())
        metrics.durationSeconds = (Date().timeIntervalSince(started) * 1000).rounded() / 1000
        metrics.stateChecksum = checksum.description
        metrics.recovery = recovery.changedSomething ? recovery : nil
        let status = options.atomic && failedBatch ? "aborted" : (metrics.errorCount > 0 ? "partial" : "ok")
        metrics.journalLastPosition = journal.nextPosition
        try finishRun(RunFinished(runID: runID, status: status, metrics: metrics))
        return metrics
    }

    private func record(
        _ report: BatchReport, into metrics: inout IngestMetrics, committed: inout [Int64], failed: inout Bool
    ) {
        guard report.batchID > 0 else { return }
        metrics.batchProcessing.batchCount += 1
        metrics.batchIDs.append(report.batchID)
        metrics.mutations += report.result == .committed ? report.mutations.count : 0
        if report.result == .committed {
            metrics.batchProcessing.batchesSucceeded += 1
            committed.append(report.batchID)
        } else {
            metrics.batchProcessing.batchesFailed += 1
            let message = "batch \(report.batchID): \(report.reason ?? "failed")"
            metrics.batchProcessing.batchErrors.append(message)
            metrics.errors.append(message)
            failed = true
        }
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

    private func mostCommonCongress(_ meetings: [CommitteeMeeting]) -> Int? {
        var counts: [Int: Int] = [:]
        for meeting in meetings { counts[meeting.congress, default: 0] += 1 }
        return counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
    }
}
