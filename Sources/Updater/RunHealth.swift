import Foundation
import Store

/// One thing about a run that an operator should look at: a rate over its threshold, a duration far
/// above the recent median, a count far outside recent history, or damage in what the run journaled.
///
/// Journaled in the run's `run_finished` metrics (`alerts`), printed by `hearings ingest` and marked by
/// `hearings log`. Only counts, rates and identifiers: never a URL, a key or a row value.
public struct RunAlert: Codable, Sendable, Equatable {
    /// Stable, snake_case: `batch_failure_rate`, `rejected_item_rate`, `api_error_rate`, `duration`,
    /// `verify`, or `anomaly.<count>` (`anomaly.titles_changed` …).
    public var name: String
    /// The measured value: a fraction for a rate, seconds for `duration`, problems for `verify`, the
    /// modified z-score for an anomaly.
    public var value: Double
    /// The limit `value` went over (in the same unit).
    public var threshold: Double
    /// What happened, for people: the figures behind the value and what to do.
    public var message: String
    /// Whether the alert can justify undoing the run (`--on-anomaly revert`): only a count far outside
    /// its history in a destructive direction (see `HealthRules.criticalCounts`).
    public var critical: Bool

    /// An alert.
    public init(name: String, value: Double, threshold: Double, message: String, critical: Bool = false) {
        self.name = name
        self.value = value
        self.threshold = threshold
        self.message = message
        self.critical = critical
    }

    /// Decodes alerts journaled by any version (`critical` absent: false).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        value = try container.decodeIfPresent(Double.self, forKey: .value) ?? 0
        threshold = try container.decodeIfPresent(Double.self, forKey: .threshold) ?? 0
        message = try container.decodeIfPresent(String.self, forKey: .message) ?? ""
        critical = try container.decodeIfPresent(Bool.self, forKey: .critical) ?? false
    }

    enum CodingKeys: String, CodingKey {
        case name, value, threshold, message, critical
    }
}

/// What a run changed, beyond the predecessor's counts, for anomaly detection: counted from the row
/// mutations of the batches the run committed.
public struct RunChanges: Codable, Sendable, Equatable {
    /// `hearings` rows deleted.
    public var meetingsDeleted = 0
    /// `hearings` rows updated with a different `title`.
    public var titlesChanged = 0
    /// Rows of `witnesses` and `witness_appearances` inserted, updated or deleted.
    public var witnessesChanged = 0
    /// Rows of `witness_documents`, `supporting_documents` and `hearing_transcripts` inserted, updated
    /// or deleted.
    public var documentsChanged = 0

    /// No changes.
    public init() {}

    /// Adds what `mutations` (a committed batch's) change.
    public mutating func count(_ mutations: [Mutation]) {
        for mutation in mutations {
            switch mutation.table {
            case Schema.hearings.name:
                if mutation.kind == .delete { meetingsDeleted += 1 }
                if mutation.kind == .update, let before = mutation.before, let after = mutation.after,
                    before["title"] != after["title"]
                {
                    titlesChanged += 1
                }
            case Schema.witnesses.name, Schema.witnessAppearances.name:
                witnessesChanged += 1
            case Schema.witnessDocuments.name, Schema.supportingDocuments.name,
                Schema.hearingTranscripts.name:
                documentsChanged += 1
            default: break
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case meetingsDeleted = "meetings_deleted"
        case titlesChanged = "titles_changed"
        case witnessesChanged = "witnesses_changed"
        case documentsChanged = "documents_changed"
    }
}

/// The thresholds and the reaction of the run-health checks (docs/operations.md, "Run health").
public struct HealthPolicy: Sendable, Equatable {
    /// What to do when a run raises a critical anomaly.
    public enum AnomalyAction: String, Sendable, Equatable, CaseIterable {
        /// Keep the run; the alert is reported (exit status 3).
        case keep
        /// Undo every batch the run committed, newest first (exit status 6).
        case revert
    }

    /// Alert when failed batches / batches exceeds this fraction (the predecessor's 10 %).
    public var batchFailureRate = 0.10
    /// Alert when rejected items / items checked exceeds this fraction.
    public var rejectedItemRate = 0.10
    /// Alert when failed API requests / API requests exceeds this fraction (the predecessor's 10 %).
    public var apiErrorRate = 0.10
    /// Alert when the run took more than this many times the median of recent comparable runs (the
    /// predecessor's 2×) …
    public var durationFactor = 2.0
    /// … and at least this many seconds more than that median: a run of a fraction of a second that
    /// takes twice as long is noise, not an incident.
    public var durationMinimumExcess = 5.0
    /// An anomaly is a count whose modified z-score exceeds this (Iglewicz & Hoaglin's 3.5).
    public var anomalyThreshold = 3.5
    /// Fewer comparable runs than this: no duration or anomaly alerts (too little history to judge).
    public var minimumHistory = 5
    /// How many recent comparable runs make the history.
    public var historyLength = 30
    /// What a critical anomaly does to the run.
    public var onAnomaly = AnomalyAction.keep
    /// Whether to check what the run journaled (records, markers, rows) before it finishes.
    public var verifyRun = true

    /// The defaults above.
    public init() {}
}

/// One past run, as its `run_finished` event recorded it: the figures the health rules compare.
public struct RunRecord: Sendable, Equatable {
    public var runID: Int64
    public var durationSeconds: Double?
    /// Counts by name (`meetings_checked`, `titles_changed` …); absent when the run's event predates
    /// the field (an older journal): that count then has no history from this run.
    public var counts: [String: Double]

    /// A record.
    public init(runID: Int64, durationSeconds: Double?, counts: [String: Double]) {
        self.runID = runID
        self.durationSeconds = durationSeconds
        self.counts = counts
    }
}

/// The health rules, as pure functions of a run's figures, its history and the policy: what the
/// alerts are is decided here and nowhere else (tests drive these directly).
public enum HealthRules {
    /// The counts anomaly detection watches, in report order.
    public static let watchedCounts = [
        "meetings_checked", "meetings_updated", "meetings_added", "meetings_deleted", "witnesses_changed",
        "documents_changed", "titles_changed",
    ]

    /// The counts whose anomaly is critical when far above their history: a run that deletes meetings
    /// or rewrites titles wholesale destroys what readers rely on, and is what a broken source or
    /// mapping does (an empty or shifted field overwrites every row). Far below is not destructive.
    public static let criticalCounts: Set<String> = ["meetings_deleted", "titles_changed"]

    /// The counts of `metrics`, by the names of `watchedCounts` (the `changes` ones only when present).
    public static func counts(of metrics: IngestMetrics) -> [String: Double] {
        var counts: [String: Double] = [
            "meetings_checked": Double(metrics.hearingsChecked),
            "meetings_updated": Double(metrics.hearingsUpdated),
            "meetings_added": Double(metrics.hearingsAdded),
        ]
        if let changes = metrics.changes {
            counts["meetings_deleted"] = Double(changes.meetingsDeleted)
            counts["witnesses_changed"] = Double(changes.witnessesChanged)
            counts["documents_changed"] = Double(changes.documentsChanged)
            counts["titles_changed"] = Double(changes.titlesChanged)
        }
        return counts
    }

    /// A rate alert: `part / whole` over `threshold`. Quiet when `whole` is 0 (no requests, no batches).
    public static func rate(
        _ name: String, part: Int, whole: Int, threshold: Double, what: String
    ) -> RunAlert? {
        guard whole > 0 else { return nil }
        let rate = Double(part) / Double(whole)
        guard rate > threshold else { return nil }
        return RunAlert(
            name: name, value: rate, threshold: threshold,
            message:
                "\(part) of \(whole) \(what) (\(percent(rate))), over the \(percent(threshold)) threshold")
    }

    /// The duration alert: over `durationFactor` × the median of `history` and over it by at least
    /// `durationMinimumExcess` seconds. Quiet with fewer than `minimumHistory` durations.
    public static func duration(_ seconds: Double, history: [Double], policy: HealthPolicy) -> RunAlert? {
        guard history.count >= max(1, policy.minimumHistory), let median = median(history) else { return nil }
        let limit = policy.durationFactor * median
        guard seconds > limit, seconds - median >= policy.durationMinimumExcess else { return nil }
        return RunAlert(
            name: "duration", value: seconds, threshold: limit,
            message: String(
                format:
                    "the run took %.1f s, %.1f× the median %.1f s of the last %d comparable runs (limit %.1f×)",
                seconds, median > 0 ? seconds / median : .infinity, median, history.count,
                policy.durationFactor))
    }

    /// The modified z-score of `value` against `history` (Iglewicz & Hoaglin): 0.6745 · (x − median) /
    /// MAD, with the MAD floored at 0.6745 · √max(1, median) — the MAD a Poisson count of that size
    /// would have — so that a count that never varied (MAD 0) still has a scale: after ten days of 0
    /// titles changed, 4 changes score 4.0 (an anomaly), 3 score 3.0 (not).
    public static func modifiedZScore(_ value: Double, history: [Double]) -> (
        score: Double, median: Double, mad: Double
    )? {
        guard let median = median(history), let mad = Self.median(history.map { abs($0 - median) }) else {
            return nil
        }
        let scale = max(mad, 0.6745 * max(1, median).squareRoot())
        return (0.6745 * (value - median) / scale, median, mad)
    }

    /// Anomaly alerts: each watched count of `counts` whose modified z-score against the same count of
    /// `history` is beyond `anomalyThreshold` either way. Quiet for a count with fewer than
    /// `minimumHistory` past values. Critical when the count is in `criticalCounts` and far above.
    public static func anomalies(
        _ counts: [String: Double], history: [RunRecord], policy: HealthPolicy
    ) -> [RunAlert] {
        var alerts: [RunAlert] = []
        for name in watchedCounts {
            guard let value = counts[name] else { continue }
            let past = history.compactMap { $0.counts[name] }
            guard past.count >= max(1, policy.minimumHistory),
                let (score, median, mad) = modifiedZScore(value, history: past),
                abs(score) > policy.anomalyThreshold
            else { continue }
            let critical = score > 0 && criticalCounts.contains(name)
            let direction = score > 0 ? "above" : "below"
            alerts.append(
                RunAlert(
                    name: "anomaly.\(name)", value: score, threshold: policy.anomalyThreshold,
                    message:
                        "\(name) \(format(value)) is far \(direction) the last \(past.count) comparable runs "
                        + "(median \(format(median)), MAD \(format(mad))): modified z-score "
                        + String(format: "%.1f", score) + ", beyond ±\(format(policy.anomalyThreshold))"
                        + (critical ? "; critical: a destructive change far outside history" : ""),
                    critical: critical))
        }
        return alerts
    }

    /// Every alert of a finished run but `verify` (which needs the data home): rates, duration and
    /// anomalies, from `metrics` and the comparable `history` (newest first or in any order).
    public static func alerts(
        for metrics: IngestMetrics, history: [RunRecord], policy: HealthPolicy
    ) -> [RunAlert] {
        var alerts: [RunAlert] = []
        let batches = metrics.batchProcessing
        if let alert = rate(
            "batch_failure_rate", part: batches.batchesFailed, whole: batches.batchCount,
            threshold: policy.batchFailureRate, what: "batches failed")
        {
            alerts.append(alert)
        }
        // An undecodable document is rejected before it counts as checked: the whole is at least the
        // rejected items, so the rate stays within 100 %.
        let rejected = Set(metrics.validationIssues.map(\.item)).count
        if let alert = rate(
            "rejected_item_rate", part: rejected, whole: max(metrics.hearingsChecked, rejected),
            threshold: policy.rejectedItemRate, what: "items rejected")
        {
            alerts.append(alert)
        }
        if let alert = rate(
            "api_error_rate", part: metrics.apiErrors, whole: metrics.apiRequests,
            threshold: policy.apiErrorRate, what: "API requests failed")
        {
            alerts.append(alert)
        }
        if let alert = duration(
            metrics.durationSeconds, history: history.compactMap(\.durationSeconds), policy: policy)
        {
            alerts.append(alert)
        }
        alerts += anomalies(counts(of: metrics), history: history, policy: policy)
        return alerts
    }

    /// The median of `values`, nil when empty.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    private static func percent(_ fraction: Double) -> String {
        String(format: "%.1f %%", fraction * 100)
    }

    /// A figure for a message: an integer as such, anything else to two decimals at most (3.5, 0.68).
    private static func format(_ value: Double) -> String {
        guard value.isFinite else { return String(value) }
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int64(rounded)) : String(rounded)
    }
}
