import Foundation
import GRDB
import Journal
import Store

extension Session {
    /// The index key of the `run_finished` events of ingest runs from sources of `kind` (`sample`,
    /// `dir`, `api`): run history is found through it, whatever the journal's length.
    static func historyKey(kind: String) -> String { "ingest:\(kind)" }

    /// The kind of a source as the metrics name it: `sample:2` → `sample`, `dir:/in` → `dir`, `api`.
    static func sourceKind(_ source: String) -> String {
        String(source.prefix { $0 != ":" })
    }

    /// Ends an ingest run: computes its health alerts from the run's figures, its history and what it
    /// journaled; with `policy.onAnomaly == .revert` and a critical anomaly, undoes every batch the
    /// run committed, newest first; then journals `run_finished` (with the alerts, under the history
    /// key) and returns the run's final status.
    ///
    /// Undoing: an `anomaly` event naming the batches and the alerts is appended durably first, and
    /// the checkpoint is held before it until the run is finished, so that recovery finishes the
    /// reversal if the process dies in it (`Recovery.swift`).
    func finishIngestRun(
        runID: Int64, status: String, metrics: inout IngestMetrics, policy: HealthPolicy,
        progress: (IngestProgress) -> Void
    ) throws -> String {
        let kind = Self.sourceKind(metrics.source)
        // A benchmark run without a journal has nothing to compare or verify.
        if !journalingDisabledForBenchmark {
            let history = try runHistory(kind: kind, limit: policy.historyLength)
            metrics.alerts = HealthRules.alerts(for: metrics, history: history, policy: policy)
            if policy.verifyRun {
                let problems = try verifyRun(runID, ledger: runLedger)
                if !problems.isEmpty {
                    metrics.alerts.append(
                        RunAlert(
                            name: "verify", value: Double(problems.count), threshold: 0,
                            message: "what the run journaled does not check out (run `hearings verify`): "
                                + problems.prefix(5).joined(separator: "; ")
                                + (problems.count > 5 ? "; … \(problems.count - 5) more" : "")))
                }
            }
        }
        var status = status
        let committed = metrics.batches.filter {
            $0.outcome == BatchResult.committed.rawValue && $0.compensates == nil
        }
        .map(\.batchID)
        let critical = metrics.alerts.filter(\.critical)
        if policy.onAnomaly == .revert, !critical.isEmpty, !committed.isEmpty, status != "aborted" {
            try revertForAnomaly(
                runID: runID, batches: committed, critical: critical, metrics: &metrics, progress: progress)
            status = "reverted"
        }
        metrics.stateChecksum = checksum.description
        metrics.journalLastPosition = journal.nextPosition
        try finishRun(
            RunFinished(runID: runID, status: status, metrics: metrics),
            extraKeys: [Self.historyKey(kind: kind)])
        return status
    }

    /// Compensates `batches` (the run's committed batches, in commit order) newest first, after
    /// journaling why.
    private func revertForAnomaly(
        runID: Int64, batches: [Int64], critical: [RunAlert], metrics: inout IngestMetrics,
        progress: (IngestProgress) -> Void
    ) throws {
        let anomaly = RunAnomaly(runID: runID, action: "revert", batchIDs: batches, alerts: metrics.alerts)
        let positions = try journaling("the journal failed, the run stops") {
            try journal.append([
                try JournalEvent(type: EventType.anomaly, fields: anomaly, keys: [JournalEvent.runKey(runID)])
            ])
        }
        checkpointCeiling = min(checkpointCeiling ?? Int64.max, Int64(positions.lowerBound) - 1)
        let reason = "anomaly: " + critical.map(\.name).joined(separator: ", ")
        for batchID in batches.reversed() {
            try anomalyRevertFault?(batchID)
            let started = Date()
            let undone = try compensate(batch: batchID, runID: runID, reason: reason)
            metrics.compensatedBatchIDs.append(batchID)
            let entry = IngestMetrics.Batch(
                batchID: undone.batchID, items: 0, mutations: undone.mutations.count,
                outcome: undone.result.rawValue,
                durationMilliseconds: (Date().timeIntervalSince(started) * 10_000).rounded() / 10,
                reason: reason, compensates: batchID)
            metrics.batches.append(entry)
            progress(.compensated(runID: runID, batch: entry))
        }
        metrics.anomalyReverted = true
    }

    /// The newest `limit` finished ingest runs from sources of `kind`, newest first, that count as
    /// history: those that finished `ok` or `partial` (an aborted or reverted run changed nothing).
    /// Found through the index key `ingest:<kind>`; only those events are read.
    public func runHistory(kind: String, limit: Int) throws -> [RunRecord] {
        try Self.runHistory(journal, kind: kind, limit: limit)
    }

    /// `runHistory(kind:limit:)` on any journal (read-only is enough).
    public static func runHistory(_ journal: Journal, kind: String, limit: Int) throws -> [RunRecord] {
        var records: [RunRecord] = []
        // Positions from the index are candidates (keys are hashed): each event is checked.
        for position in try journal.positions(withKey: historyKey(kind: kind)).reversed() {
            guard records.count < limit else { break }
            guard let entry = try journal.entry(at: position),
                let record = try runRecord(entry.line, kind: kind)
            else { continue }
            records.append(record)
        }
        return records
    }

    /// The figures of a `run_finished` line, or nil when it is another event, another kind of source,
    /// or a run that does not count as history.
    static func runRecord(_ line: [UInt8], kind: String) throws -> RunRecord? {
        let node = try FastJSON.parse(line)
        guard case .string(EventType.runFinished)? = node["type"],
            case .integer(let runID)? = node["run_id"],
            case .string(let status)? = node["status"], status == "ok" || status == "partial",
            let metrics = node["metrics"],
            case .string(let source)? = metrics["source"], sourceKind(source) == kind
        else { return nil }
        func number(_ node: FastJSON.Node?) -> Double? {
            switch node {
            case .integer(let value)?: return Double(value)
            case .number(let value)?: return value
            default: return nil
            }
        }
        var counts: [String: Double] = [:]
        for (name, key) in [
            ("meetings_checked", "hearings_checked"), ("meetings_updated", "hearings_updated"),
            ("meetings_added", "hearings_added"),
        ] {
            counts[name] = number(metrics[key])
        }
        if let changes = metrics["changes"] {
            for name in ["meetings_deleted", "witnesses_changed", "documents_changed", "titles_changed"] {
                counts[name] = number(changes[name])
            }
        }
        return RunRecord(runID: runID, durationSeconds: number(metrics["duration_seconds"]), counts: counts)
    }

    /// Checks what run `runID` journaled, the way `hearings verify` checks a data home, but only the
    /// run's part: its journal records (chain, checksums, positions), each of its batches against the
    /// database's marker rows, the chain of its state checksums, and every row it changed against what
    /// its last mutation of that row left. Costs what the run wrote, not what the database holds (the
    /// full state checksum recomputation is `hearings verify`'s).
    ///
    /// - Parameter known: the run's ledger, kept by this session as the run's batches committed: then
    ///   the run's records are read once, to check them (and that they are the bytes this session
    ///   wrote), and its intents are not decoded. Without it (another session's run), the ledger is
    ///   built from the journal: the records checked and the intents' heads read in one pass, the
    ///   committed intents decoded in a second.
    /// - Returns: one line per problem; empty when all is sound.
    func verifyRun(_ runID: Int64, ledger known: RunLedger? = nil) throws -> [String] {
        let first = UInt64(runID)
        let ledger: RunLedger
        if let known, known.runID == runID {
            let problems = journal.verifyRecords(from: first)
            guard problems.isEmpty else { return problems }
            ledger = known
        } else {
            let read = try ledgerFromJournal(runID)
            guard read.problems.isEmpty else { return read.problems }
            ledger = read.ledger
        }
        var problems: [String] = []
        let markers = try store.queue.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT batch_id, intent_position, state_checksum FROM journal_batches WHERE intent_position >= ?",
                arguments: [Int64(first)])
        }
        var markerOf: [Int64: (position: Int64, checksum: String)] = [:]
        for marker in markers {
            markerOf[marker["batch_id"]] = (marker["intent_position"], marker["state_checksum"])
        }
        var previous: String?
        for intent in ledger.batches {
            if let marker = markerOf.removeValue(forKey: intent.batchID) {
                if marker.position != Int64(intent.position) {
                    problems.append(
                        "batch \(intent.batchID): the marker names position \(marker.position), the intent is at \(intent.position)"
                    )
                }
                if marker.checksum != intent.checksumAfter {
                    problems.append(
                        "batch \(intent.batchID): the marker's state checksum \(marker.checksum) is not the intent's \(intent.checksumAfter)"
                    )
                }
            } else {
                problems.append(
                    "batch \(intent.batchID): committed in the journal, no marker row in the database")
            }
            if let previous, previous != intent.checksumBefore {
                problems.append(
                    "batch \(intent.batchID): starts from state checksum \(intent.checksumBefore), the batch before left \(previous)"
                )
            }
            previous = intent.checksumAfter
        }
        for batchID in markerOf.keys.sorted() {
            problems.append(
                "batch \(batchID): a marker row in the database, but not committed in the journal")
        }
        if let previous, previous != checksum.description {
            problems.append(
                "the run's last batch left state checksum \(previous), the session holds \(checksum)")
        }
        // Every row the run changed must hold what the run left: compared table by table through the
        // XOR of row hashes, read with one statement per range of keys.
        let differing = try store.queue.read { db in try ledger.differingRows(db) }
        guard !differing.isEmpty else { return problems }
        // Which rows and fields: the inverse of each row's last mutation, from the decoded intents,
        // conflict-checked (this reads the run's intents again, only when something is wrong).
        let conflicts = try rowConflicts(at: Set(ledger.batches.map(\.position)), from: first)
        for conflict in conflicts.prefix(10) {
            problems.append("a row the run changed no longer holds what it left: \(conflict)")
        }
        if conflicts.count > 10 { problems.append("… \(conflicts.count - 10) more changed rows") }
        if conflicts.isEmpty {
            problems.append(
                "the rows the run changed do not hash to what its mutations left: "
                    + differing.joined(separator: ", "))
        }
        return problems
    }

    /// Run `runID`'s ledger read from the journal: its records checked and the heads of its intents
    /// and its outcomes read in one pass, then the intents of its committed batches decoded.
    private func ledgerFromJournal(_ runID: Int64) throws -> (ledger: RunLedger, problems: [String]) {
        let first = UInt64(runID)
        var heads: [(position: UInt64, head: EventLineReader.Head)] = []
        var outcomes: [Int64: BatchResult] = [:]
        let problems = try journal.verifyRecords(from: first) { entry in
            let head = try EventLineReader.head(entry.line, beforeMutations: true)
            switch head.type {
            case EventType.batchIntent:
                // `run_id` follows the mutations: whose run it is comes from the outcome, below.
                heads.append((entry.position, head))
            case EventType.batchOutcome:
                let outcome = try EventLineReader.outcome(entry.line)
                if outcome.runID == runID { outcomes[outcome.batchID] = outcome.result }
            default: break
            }
        }
        var ledger = RunLedger(runID: runID)
        guard problems.isEmpty else { return (ledger, problems) }
        var committed: [UInt64: RunLedger.Batch] = [:]
        for (position, head) in heads {
            guard let batchID = head.batchID, outcomes[batchID] == .committed else { continue }
            committed[position] = RunLedger.Batch(
                batchID: batchID, position: position, checksumBefore: head.checksumBefore ?? "",
                checksumAfter: head.checksumAfter ?? "")
        }
        try forEachIntent(at: Set(committed.keys), from: first) { position, intent in
            guard let batch = committed[position] else { return }
            ledger.record(
                batch, mutations: intent.mutations,
                hashes: intent.mutations.map(StateChecksum.imageHashes(of:)))
        }
        return (ledger, [])
    }

    /// The conflicts of the inverse of each row's last mutation in the intents at `positions`: what
    /// the rows the run changed hold that differs from what the run left, by table, key and field.
    private func rowConflicts(at positions: Set<UInt64>, from first: UInt64) throws -> [Conflict] {
        // Rows by a 64-bit hash of their table and key: a run of 100,000 meetings touches 740,000 rows,
        // and their key strings alone took more memory than the run's batches.
        var lastBatch: [Int: Int64] = [:]
        try forEachIntent(at: positions, from: first) { _, intent in
            for mutation in intent.mutations { lastBatch[Self.slot(of: mutation)] = intent.batchID }
        }
        var conflicts: [Conflict] = []
        try forEachIntent(at: positions, from: first) { _, intent in
            var final: [Int: Mutation] = [:]
            var order: [Int] = []
            for mutation in intent.mutations {
                let slot = Self.slot(of: mutation)
                guard lastBatch[slot] == intent.batchID else { continue }
                if final.updateValue(mutation, forKey: slot) == nil { order.append(slot) }
            }
            let expected = order.compactMap { final[$0]?.inverse }
            conflicts += try store.queue.read { db in try Store.conflicts(of: expected, db) }
        }
        return conflicts
    }

    /// Calls `body` with each intent at `positions`, decoded, in journal order.
    private func forEachIntent(
        at positions: Set<UInt64>, from first: UInt64, _ body: (UInt64, BatchIntent) throws -> Void
    ) throws {
        guard let last = positions.max() else { return }
        try journal.read(from: first, through: last) { entry in
            if positions.contains(entry.position) {
                try body(entry.position, try EventLineReader.intent(entry.line))
            }
            return true
        }
    }

    /// A row's identity across mutations: the hash of its journal row key (`row:<table>:<key>`), within
    /// one process. Two rows sharing a 64-bit hash (about one chance in 10^7 for a run of a million
    /// rows) would leave one of them unchecked, never raise a false problem.
    private static func slot(of mutation: Mutation) -> Int {
        JournalEvent.rowKey(table: mutation.table, key: mutation.key).hashValue
    }
}
