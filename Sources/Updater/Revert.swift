import Foundation
import GRDB
import Journal
import Store

/// What `hearings revert` did (the JSON document of `hearings revert --format json`).
public struct RevertReport: Encodable, Sendable, Equatable {
    /// The batch that was reverted.
    public var batchID: Int64
    /// The compensation batch that undid it.
    public var compensationBatchID: Int64
    /// The revert run.
    public var runID: Int64
    /// When the reverted batch was itself a compensation: the batch it had undone, now applied again.
    public var reapplies: Int64?
    /// Rows changed by the compensation.
    public var mutations: Int
    /// The logical state checksum after the revert.
    public var stateChecksum: String

    enum CodingKeys: String, CodingKey {
        case reapplies, mutations
        case batchID = "batch_id"
        case compensationBatchID = "compensation_batch_id"
        case runID = "run_id"
        case stateChecksum = "state_checksum"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(batchID, forKey: .batchID)
        try container.encode(compensationBatchID, forKey: .compensationBatchID)
        try container.encode(runID, forKey: .runID)
        try container.encode(reapplies, forKey: .reapplies)
        try container.encode(mutations, forKey: .mutations)
        try container.encode(stateChecksum, forKey: .stateChecksum)
    }

    /// The report for people.
    public var text: String {
        let what =
            reapplies.map { "batch \(batchID) reverted: batch \($0) is applied again" }
            ?? "batch \(batchID) reverted"
        return "\(what) by batch \(compensationBatchID) (run \(runID)), \(mutations) row changes; "
            + "state checksum \(stateChecksum)\n"
    }
}

/// A row that does not hold what the reverted batch left in it, named for people.
public struct RevertConflict: Encodable, Sendable, Equatable {
    public var table: String
    /// The primary key.
    public var key: RowImage
    /// The row's natural key (see `BatchAudit.MutationRecord.label`).
    public var label: String
    /// The differing column; nil when the row itself is missing or unexpectedly present.
    public var field: String?
    /// What the batch left (nil: no row).
    public var expected: Value?
    /// What the database holds (nil: no row).
    public var found: Value?

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(table, forKey: .table)
        try container.encode(key, forKey: .key)
        try container.encode(label, forKey: .label)
        try container.encode(field, forKey: .field)
        // A missing row is `"row": false` rather than a value, so JSON null stays SQL NULL.
        if field == nil {
            try container.encode(expected != nil, forKey: .expectedRow)
            try container.encode(found != nil, forKey: .foundRow)
        } else {
            try container.encode(expected ?? .null, forKey: .expected)
            try container.encode(found ?? .null, forKey: .found)
        }
    }

    enum CodingKeys: String, CodingKey {
        case table, key, label, field, expected, found
        case expectedRow = "expected_row"
        case foundRow = "found_row"
    }

    /// One line: table, natural key and primary key, field, expected and found.
    public var description: String {
        let key = self.key.columns.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.description)" }
        let row = "\(table) \(label) (\(key.joined(separator: ", ")))"
        guard let field else {
            return "\(row): expected \(expected == nil ? "no row" : "the row"), found "
                + (found == nil ? "no row" : "a row")
        }
        return
            "\(row) \(field): expected \(expected?.description ?? "no row"), found \(found?.description ?? "no row")"
    }
}

/// What a revert would do, checked before anything is written.
public struct RevertPlan: Sendable {
    /// The batch to revert.
    public var batchID: Int64
    /// Its journaled intent.
    public var intent: BatchIntent
    /// Rows that no longer hold the batch's after-image: the revert is refused when not empty.
    public var conflicts: [RevertConflict]

    /// The refusal for `conflicts` (exit status 5).
    public var conflictError: UpdaterError {
        UpdaterError(
            .conflict,
            "batch \(batchID) cannot be reverted: \(conflicts.count) field(s) changed since it committed "
                + "(a later batch touched its rows); nothing was changed:\n"
                + conflicts.map { "  " + $0.description }.joined(separator: "\n"))
    }
}

extension Session {
    /// Checks whether batch `batchID` can be reverted, changing nothing.
    ///
    /// - Throws: `UpdaterError(.failure)` when the batch is not in the journal, was not committed
    ///   (failed or aborted: it changed nothing), or is already reverted by a committed compensation
    ///   that stands (the message names it). Conflicts are returned in the plan, not thrown, so a
    ///   caller can print them as it likes.
    public func planRevert(batch batchID: Int64) throws -> RevertPlan {
        let history = BatchHistory(journal)
        let events = try history.events(ofBatch: batchID)
        guard let position = events.intentPosition, let intent = try history.intent(at: position) else {
            if let outcome = events.outcome {
                throw UpdaterError(
                    .failure,
                    "batch \(batchID) \(outcome.outcome.result.rawValue) before its intent was journaled: it changed "
                        + "nothing, there is nothing to revert")
            }
            throw UpdaterError(.failure, "batch \(batchID) is not in the journal")
        }
        guard let outcome = events.outcome?.outcome else {
            throw UpdaterError(
                .failure, "batch \(batchID) has no outcome in the journal; run `hearings recover` first")
        }
        guard outcome.result == .committed else {
            throw UpdaterError(
                .failure,
                "batch \(batchID) was not committed (\(outcome.result.rawValue)"
                    + (outcome.reason.map { ": \($0)" } ?? "")
                    + "): it changed nothing, there is nothing to revert")
        }
        if let by = try history.undoneBy(batchID) {
            throw UpdaterError(
                .failure,
                "batch \(batchID) is already reverted by batch \(by); to apply it again, revert batch \(by)")
        }
        let found = try store.queue.read { db in try Store.conflicts(of: intent.mutations.inverse, db) }
        var keys = NaturalKeys(history: history, position: position, intent: intent)
        var conflicts: [RevertConflict] = []
        for conflict in found {
            let number = intent.mutations.lastIndex { $0.table == conflict.table && $0.key == conflict.key }
            let label =
                try number.map {
                    NaturalKeys.label(try keys.naturalKey(of: intent.mutations[$0], number: $0))
                } ?? ""
            conflicts.append(
                RevertConflict(
                    table: conflict.table, key: conflict.key, label: label, field: conflict.field,
                    expected: conflict.expected, found: conflict.found))
        }
        return RevertPlan(batchID: batchID, intent: intent, conflicts: conflicts)
    }

    /// Reverts committed batch `batchID` with compensating events (DESIGN §5): one transaction,
    /// journaled as its own batch (`kind: compensation`, `compensates`, `reason: revert`) in a run of
    /// its own (`command: revert`). Reverting a compensation applies the batch it undid again.
    ///
    /// - Throws: what `planRevert` throws; `UpdaterError(.conflict)` listing every conflict when a row
    ///   no longer holds the batch's after-image. A refused revert writes nothing, journal included.
    public func revert(batch batchID: Int64) throws -> RevertReport {
        try revert(try planRevert(batch: batchID))
    }

    /// Carries out a plan from `planRevert` (the caller may have printed its conflicts first).
    ///
    /// - Throws: `plan.conflictError` when the plan has conflicts; nothing is written then.
    public func revert(_ plan: RevertPlan) throws -> RevertReport {
        let batchID = plan.batchID
        guard plan.conflicts.isEmpty else { throw plan.conflictError }
        let runID = try startRun(
            RunStarted(
                runID: 0, command: "revert", source: nil, congress: nil, lookbackDays: nil, batchSize: nil,
                atomic: false))
        let report: BatchReport
        do {
            report = try compensate(batch: batchID, runID: runID, reason: "revert")
        } catch {
            // The run is closed either way, so `log` shows it ended; recovery needs nothing from it.
            try finishRun(RunFinished(runID: runID, status: "failed", metrics: nil))
            throw error
        }
        try finishRun(RunFinished(runID: runID, status: "ok", metrics: nil))
        return RevertReport(
            batchID: batchID, compensationBatchID: report.batchID, runID: runID,
            reapplies: plan.intent.kind == .compensation ? plan.intent.compensates : nil,
            mutations: report.mutations.count, stateChecksum: checksum.description)
    }
}
