/// The metrics of one ingest run: the predecessor's keys (so its dashboards keep working) plus the run
/// id, the journal positions written, the snapshot taken and the state checksum. Printed by
/// `hearings ingest --format json` and journaled in `run_finished`.
public struct IngestMetrics: Codable, Sendable, Equatable {
    /// One item left out, and why.
    public struct Issue: Codable, Sendable, Equatable {
        public var item: String
        public var field: String
        public var problem: String
    }

    /// One batch the run wrote (it has an id in the journal): a batch of meetings, the committee
    /// reference batch, or a compensation an atomic run made to undo one of its batches.
    public struct Batch: Codable, Sendable, Equatable {
        public var batchID: Int64
        /// The source items the batch carried (meetings, or committee codes).
        public var items: Int
        /// Row mutations: applied when committed; staged before the failure when failed (none kept).
        public var mutations: Int
        /// `committed` or `failed` (the journaled outcome).
        public var outcome: String
        /// Wall time from `BEGIN` to the outcome, preparation included.
        public var durationMilliseconds: Double
        /// Why it failed (nil when committed), or why a compensation was made.
        public var reason: String?
        /// For a compensation: the batch it undoes.
        public var compensates: Int64?

        /// A batch entry.
        public init(
            batchID: Int64, items: Int, mutations: Int, outcome: String, durationMilliseconds: Double,
            reason: String? = nil, compensates: Int64? = nil
        ) {
            self.batchID = batchID
            self.items = items
            self.mutations = mutations
            self.outcome = outcome
            self.durationMilliseconds = durationMilliseconds
            self.reason = reason
            self.compensates = compensates
        }

        enum CodingKeys: String, CodingKey {
            case batchID = "batch_id"
            case items, mutations, outcome, reason, compensates
            case durationMilliseconds = "duration_ms"
        }

        // `reason` and `compensates` are written as null when absent: a stable set of keys per entry.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(batchID, forKey: .batchID)
            try container.encode(items, forKey: .items)
            try container.encode(mutations, forKey: .mutations)
            try container.encode(outcome, forKey: .outcome)
            try container.encode(durationMilliseconds, forKey: .durationMilliseconds)
            try container.encode(reason, forKey: .reason)
            try container.encode(compensates, forKey: .compensates)
        }
    }

    /// The batch part of the metrics.
    public struct BatchProcessing: Codable, Sendable, Equatable {
        public var enabled: Bool
        public var batchCount: Int
        public var batchesSucceeded: Int
        public var batchesFailed: Int
        public var batchErrors: [String]

        enum CodingKeys: String, CodingKey {
            case enabled
            case batchCount = "batch_count"
            case batchesSucceeded = "batches_succeeded"
            case batchesFailed = "batches_failed"
            case batchErrors = "batch_errors"
        }
    }

    public var runID: Int64 = 0
    public var source = ""
    public var startTime = ""
    public var endTime = ""
    public var durationSeconds = 0.0
    public var hearingsChecked = 0
    public var hearingsUpdated = 0
    public var hearingsAdded = 0
    public var hearingsUnchanged = 0
    public var committeesUpdated = 0
    public var witnessesUpdated = 0
    public var mutations = 0
    public var apiRequests = 0
    /// API requests that failed (an HTTP error, a timeout, an undecodable response): the API source
    /// counts them; the offline sources make no requests.
    public var apiErrors = 0
    public var errorCount = 0
    public var errors: [String] = []
    public var validationPassed = true
    public var validationWarnings: [String] = []
    public var validationIssues: [Issue] = []
    public var batchProcessing = BatchProcessing(
        enabled: true, batchCount: 0, batchesSucceeded: 0, batchesFailed: 0, batchErrors: [])
    public var batchIDs: [Int64] = []
    /// Every batch the run wrote, in order (compensations of an atomic run included).
    public var batches: [Batch] = []
    public var compensatedBatchIDs: [Int64] = []
    public var journalFirstPosition: UInt64 = 0
    public var journalLastPosition: UInt64 = 0
    public var snapshot: String?
    public var stateChecksum = ""
    public var recovery: RecoveryReport?
    /// What the run changed beyond the counts above (for anomaly detection); nil in runs journaled
    /// before the field existed.
    public var changes: RunChanges? = RunChanges()
    /// The run's health alerts (docs/operations.md, "Run health"); empty when all is well.
    public var alerts: [RunAlert] = []
    /// Whether the run was undone because it raised a critical anomaly (`--on-anomaly revert`): its
    /// batches are listed in `compensated_batch_ids` and `batches`.
    public var anomalyReverted = false

    /// Empty metrics.
    public init() {}

    /// Decodes metrics journaled by any version: a key an older version did not write (`batches`…)
    /// takes its default, so `run_finished` events stay readable as the document grows.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try container.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        runID = try value(.runID, runID)
        source = try value(.source, source)
        startTime = try value(.startTime, startTime)
        endTime = try value(.endTime, endTime)
        durationSeconds = try value(.durationSeconds, durationSeconds)
        hearingsChecked = try value(.hearingsChecked, hearingsChecked)
        hearingsUpdated = try value(.hearingsUpdated, hearingsUpdated)
        hearingsAdded = try value(.hearingsAdded, hearingsAdded)
        hearingsUnchanged = try value(.hearingsUnchanged, hearingsUnchanged)
        committeesUpdated = try value(.committeesUpdated, committeesUpdated)
        witnessesUpdated = try value(.witnessesUpdated, witnessesUpdated)
        mutations = try value(.mutations, mutations)
        apiRequests = try value(.apiRequests, apiRequests)
        apiErrors = try value(.apiErrors, apiErrors)
        errorCount = try value(.errorCount, errorCount)
        errors = try value(.errors, errors)
        validationPassed = try value(.validationPassed, validationPassed)
        validationWarnings = try value(.validationWarnings, validationWarnings)
        validationIssues = try value(.validationIssues, validationIssues)
        batchProcessing = try value(.batchProcessing, batchProcessing)
        batchIDs = try value(.batchIDs, batchIDs)
        batches = try value(.batches, batches)
        compensatedBatchIDs = try value(.compensatedBatchIDs, compensatedBatchIDs)
        journalFirstPosition = try value(.journalFirstPosition, journalFirstPosition)
        journalLastPosition = try value(.journalLastPosition, journalLastPosition)
        snapshot = try container.decodeIfPresent(String.self, forKey: .snapshot)
        stateChecksum = try value(.stateChecksum, stateChecksum)
        recovery = try container.decodeIfPresent(RecoveryReport.self, forKey: .recovery)
        changes = try container.decodeIfPresent(RunChanges.self, forKey: .changes)
        alerts = try value(.alerts, alerts)
        anomalyReverted = try value(.anomalyReverted, anomalyReverted)
    }

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case source
        case startTime = "start_time"
        case endTime = "end_time"
        case durationSeconds = "duration_seconds"
        case hearingsChecked = "hearings_checked"
        case hearingsUpdated = "hearings_updated"
        case hearingsAdded = "hearings_added"
        case hearingsUnchanged = "hearings_unchanged"
        case committeesUpdated = "committees_updated"
        case witnessesUpdated = "witnesses_updated"
        case mutations
        case apiRequests = "api_requests"
        case apiErrors = "api_errors"
        case errorCount = "error_count"
        case errors
        case validationPassed = "validation_passed"
        case validationWarnings = "validation_warnings"
        case validationIssues = "validation_issues"
        case batchProcessing = "batch_processing"
        case batchIDs = "batch_ids"
        case batches
        case compensatedBatchIDs = "compensated_batch_ids"
        case journalFirstPosition = "journal_first_position"
        case journalLastPosition = "journal_last_position"
        case snapshot
        case stateChecksum = "state_checksum"
        case recovery
        case changes, alerts
        case anomalyReverted = "anomaly_reverted"
    }
}
