import Foundation
import Journal

/// Runs and their batches, newest first: `hearings log` (the JSON document of `--format json`).
public struct JournalLog: Encodable, Sendable, Equatable {
    /// A batch of a run.
    public struct Batch: Encodable, Sendable, Equatable {
        public var batchID: Int64
        /// When its intent (else its outcome) was journaled.
        public var time: String
        /// nil when the batch failed before its intent was journaled.
        public var kind: BatchKind?
        public var compensates: Int64?
        public var reason: String?
        public var items: Int
        public var mutations: Int
        /// Items rejected with the batch.
        public var rejected: Int
        /// nil while the batch has no outcome (recovery writes it).
        public var result: BatchResult?
        public var recovered: Bool
        /// The committed compensation that currently undoes the batch.
        public var revertedBy: Int64?

        enum CodingKeys: String, CodingKey {
            case time, kind, compensates, reason, items, mutations, rejected, result, recovered
            case batchID = "batch_id"
            case revertedBy = "reverted_by"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(batchID, forKey: .batchID)
            try container.encode(time, forKey: .time)
            try container.encode(kind, forKey: .kind)
            try container.encode(compensates, forKey: .compensates)
            try container.encode(reason, forKey: .reason)
            try container.encode(items, forKey: .items)
            try container.encode(mutations, forKey: .mutations)
            try container.encode(rejected, forKey: .rejected)
            try container.encode(result, forKey: .result)
            try container.encode(recovered, forKey: .recovered)
            try container.encode(revertedBy, forKey: .revertedBy)
        }
    }

    /// The counts of a run's `run_finished` metrics (an ingest run's).
    public struct Counts: Encodable, Sendable, Equatable {
        public var hearingsChecked: Int?
        public var hearingsAdded: Int?
        public var hearingsUpdated: Int?
        public var hearingsUnchanged: Int?
        public var mutations: Int?
        public var errorCount: Int?

        enum CodingKeys: String, CodingKey {
            case mutations
            case hearingsChecked = "hearings_checked"
            case hearingsAdded = "hearings_added"
            case hearingsUpdated = "hearings_updated"
            case hearingsUnchanged = "hearings_unchanged"
            case errorCount = "error_count"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(hearingsChecked, forKey: .hearingsChecked)
            try container.encode(hearingsAdded, forKey: .hearingsAdded)
            try container.encode(hearingsUpdated, forKey: .hearingsUpdated)
            try container.encode(hearingsUnchanged, forKey: .hearingsUnchanged)
            try container.encode(mutations, forKey: .mutations)
            try container.encode(errorCount, forKey: .errorCount)
        }
    }

    /// One run.
    public struct Run: Encodable, Sendable, Equatable {
        public var runID: Int64
        public var time: String
        public var command: String
        public var source: String?
        public var congress: Int?
        public var lookbackDays: Int?
        public var atomic: Bool
        /// From `run_finished`; nil while the run has not finished (or died: recovery closes atomic runs).
        public var status: String?
        public var finishedTime: String?
        /// From the `run_finished` metrics, when the run journaled them.
        public var counts: Counts?
        /// Its health alerts (from `run_finished`, else from an `anomaly` event); empty when none.
        public var alerts: [RunAlert] = []
        /// Its batches, newest first.
        public var batches: [Batch]

        enum CodingKeys: String, CodingKey {
            case time, command, source, congress, atomic, status, counts, batches, alerts
            case runID = "run_id"
            case lookbackDays = "lookback_days"
            case finishedTime = "finished_time"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(runID, forKey: .runID)
            try container.encode(time, forKey: .time)
            try container.encode(command, forKey: .command)
            try container.encode(source, forKey: .source)
            try container.encode(congress, forKey: .congress)
            try container.encode(lookbackDays, forKey: .lookbackDays)
            try container.encode(atomic, forKey: .atomic)
            try container.encode(status, forKey: .status)
            try container.encode(finishedTime, forKey: .finishedTime)
            try container.encode(counts, forKey: .counts)
            try container.encode(alerts, forKey: .alerts)
            try container.encode(batches, forKey: .batches)
        }
    }

    /// The newest runs, newest first.
    public var runs: [Run]
    /// How many runs the journal holds in all (`runs` may be cut by `--limit`).
    public var totalRuns: Int

    enum CodingKeys: String, CodingKey {
        case runs
        case totalRuns = "total_runs"
    }

    /// Lists the newest `limit` runs (all when nil) of a journal (read-only is enough).
    ///
    /// Through the index: the `runs` key lists every run's `run_started` position (its id); the newest
    /// `limit` runs are read through their `run:<id>` keys, and each batch's reversal through its
    /// `batch:<id>` key. The cost depends on the runs shown, not on the journal's length. A journal
    /// whose runs lack the `runs` key (written before the key existed) is read whole, as is any
    /// journal with `scan`.
    ///
    /// Only the events log shows are decoded: intents are read for their head (ids, kind, counts of
    /// items and mutations), never for their row images.
    public static func read(_ journal: Journal, limit: Int? = nil, scan: Bool = false) throws -> JournalLog {
        let listed = scan ? [] : try journal.positions(withKey: JournalEvent.runsKey)
        if listed.isEmpty && journal.nextPosition > 1 {
            return try readByScan(journal, limit: limit)
        }
        var builder = Builder()
        for runID in listed.reversed() {
            if let limit, builder.order.count >= limit { break }
            let events = try journal.entries(withKey: JournalEvent.runKey(Int64(runID)))
            // The `runs` key is a 64-bit hash in the index: a position is a run only if its event says so.
            guard let first = events.first, first.position == runID,
                try EventLineReader.head(first.line, typeOnly: true).type == EventType.runStarted
            else { continue }
            for entry in events { try builder.absorb(entry) }
        }
        let history = BatchHistory(journal)
        let undoneBy = try builder.batches.keys.reduce(into: [Int64: Int64]()) { result, batchID in
            if let by = try history.undoneBy(batchID) { result[batchID] = by }
        }
        return builder.log(order: builder.order, undoneBy: undoneBy, total: listed.count)
    }

    /// Lists the newest `limit` runs from a scan of the whole journal.
    static func readByScan(_ journal: Journal, limit: Int?) throws -> JournalLog {
        var builder = Builder()
        try journal.read { entry in
            try builder.absorb(entry)
            return true
        }
        // Which compensation currently undoes each batch: one that committed and is not itself undone
        // (reverting a revert re-applies the batch). Compensations have larger ids than what they undo,
        // so resolving in descending id order settles each compensation before the batch it undoes.
        var undoneBy: [Int64: Int64] = [:]
        for batchID in builder.batches.keys.sorted(by: >) {
            for compensation in builder.compensations[batchID] ?? []
            where builder.batches[compensation]?.batch.result == .committed && undoneBy[compensation] == nil {
                undoneBy[batchID] = compensation
            }
        }
        let newest = Array(builder.order.reversed().prefix(limit ?? builder.order.count))
        return builder.log(order: newest, undoneBy: undoneBy, total: builder.order.count)
    }

    /// Runs and batches assembled from events, in any order of runs (each run's events in order).
    private struct Builder {
        var runs: [Int64: Run] = [:]
        /// Run ids in journal order.
        var order: [Int64] = []
        var batches: [Int64: (run: Int64, batch: Batch)] = [:]
        var compensations: [Int64: [Int64]] = [:]

        mutating func absorb(_ entry: JournalEntry) throws {
            let head = try EventLineReader.head(entry.line, typeOnly: true)
            switch head.type {
            case EventType.runStarted:
                let started = try EventLineReader.runStarted(entry.line)
                runs[started.runID] = Run(
                    runID: started.runID, time: head.time, command: started.command, source: started.source,
                    congress: started.congress, lookbackDays: started.lookbackDays, atomic: started.atomic,
                    status: nil, finishedTime: nil, counts: nil, batches: [])
                order.append(started.runID)
            case EventType.runFinished:
                let finished = try EventLineReader.runFinished(entry.line)
                runs[finished.runID]?.status = finished.status
                runs[finished.runID]?.finishedTime = head.time
                runs[finished.runID]?.counts = finished.counts
                if !finished.alerts.isEmpty { runs[finished.runID]?.alerts = finished.alerts }
            case EventType.anomaly:
                // A run undone for an anomaly that recovery finished has no metrics: the event has them.
                let anomaly = try entry.decode(RunAnomaly.self)
                if runs[anomaly.runID]?.alerts.isEmpty == true {
                    runs[anomaly.runID]?.alerts = anomaly.alerts
                }
            case EventType.batchIntent:
                let intent = try EventLineReader.head(entry.line)
                guard let batchID = intent.batchID, let runID = intent.runID else { break }
                var batch = batches[batchID]?.batch ?? JournalLog.emptyBatch(batchID, time: head.time)
                batch.time = head.time
                batch.kind = intent.kind.flatMap(BatchKind.init(rawValue:))
                batch.compensates = intent.compensates
                batch.reason = intent.reason
                batch.items = intent.itemCount
                batch.mutations = intent.mutationCount
                batches[batchID] = (runID, batch)
                if let compensated = intent.compensates, batch.kind == .compensation {
                    compensations[compensated, default: []].append(batchID)
                }
            case EventType.batchOutcome:
                let outcome = try EventLineReader.outcome(entry.line)
                var batch =
                    batches[outcome.batchID]?.batch ?? JournalLog.emptyBatch(outcome.batchID, time: head.time)
                batch.result = outcome.result
                batch.recovered = outcome.recovered
                batches[outcome.batchID] = (outcome.runID, batch)
            case EventType.rejected:
                let rejected = try EventLineReader.head(entry.line)
                if let batchID = rejected.batchID, let runID = rejected.runID {
                    var batch = batches[batchID]?.batch ?? JournalLog.emptyBatch(batchID, time: head.time)
                    batch.rejected += 1
                    batches[batchID] = (runID, batch)
                }
            default: break
            }
        }

        /// The log of the runs `order` (newest first), each with its batches newest first.
        func log(order: [Int64], undoneBy: [Int64: Int64], total: Int) -> JournalLog {
            var runs = self.runs
            for (batchID, entry) in batches.sorted(by: { $0.key > $1.key }) {
                var batch = entry.batch
                batch.revertedBy = undoneBy[batchID]
                runs[entry.run]?.batches.append(batch)
            }
            return JournalLog(runs: order.compactMap { runs[$0] }, totalRuns: total)
        }
    }

    /// `text` with control characters escaped: a message may quote a row value, which must not drive
    /// the terminal.
    static func printable(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.generalCategory == .control {
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    fileprivate static func emptyBatch(_ batchID: Int64, time: String) -> Batch {
        Batch(
            batchID: batchID, time: time, kind: nil, compensates: nil, reason: nil, items: 0, mutations: 0,
            rejected: 0, result: nil, recovered: false, revertedBy: nil)
    }

    /// The log for people.
    public var text: String {
        var lines: [String] = []
        for run in runs {
            var parts = ["run \(run.runID)", run.time, run.command]
            if let source = run.source { parts.append("source \(source)") }
            if run.atomic { parts.append("atomic") }
            parts.append(run.status ?? "not finished")
            if let counts = run.counts {
                var figures: [String] = []
                if let value = counts.hearingsChecked { figures.append("\(value) checked") }
                if let value = counts.hearingsAdded { figures.append("\(value) added") }
                if let value = counts.hearingsUpdated { figures.append("\(value) updated") }
                if let value = counts.hearingsUnchanged { figures.append("\(value) unchanged") }
                if let value = counts.mutations { figures.append("\(value) row changes") }
                if let value = counts.errorCount { figures.append("\(value) errors") }
                if !figures.isEmpty { parts.append(figures.joined(separator: ", ")) }
            }
            if !run.alerts.isEmpty {
                let critical = run.alerts.filter(\.critical).count
                parts.append(
                    "ALERTS \(run.alerts.count)" + (critical > 0 ? " (\(critical) critical)" : "") + ": "
                        + run.alerts.map { $0.name + ($0.critical ? " (critical)" : "") }.joined(
                            separator: ", "))
            }
            lines.append(parts.joined(separator: "  "))
            for alert in run.alerts {
                lines.append("  alert \(alert.name): " + Self.printable(alert.message))
            }
            for batch in run.batches {
                var parts = ["  batch \(batch.batchID)", batch.time]
                switch batch.kind {
                case .compensation?:
                    parts.append(
                        "compensation of batch \(batch.compensates.map(String.init) ?? "?")"
                            + (batch.reason.map { " (\($0))" } ?? ""))
                case .ingest?: parts.append("ingest")
                case nil: parts.append("no intent")
                }
                parts.append("\(batch.items) items, \(batch.mutations) mutations")
                if batch.rejected > 0 { parts.append("\(batch.rejected) rejected") }
                parts.append(
                    (batch.result?.rawValue ?? "no outcome yet") + (batch.recovered ? " (recovered)" : ""))
                if let by = batch.revertedBy { parts.append("reverted by \(by)") }
                lines.append(parts.joined(separator: "  "))
            }
        }
        if runs.count < totalRuns {
            lines.append("(\(totalRuns - runs.count) older runs not shown; --limit)")
        }
        if runs.isEmpty { lines.append("the journal holds no runs") }
        return lines.joined(separator: "\n") + "\n"
    }
}
