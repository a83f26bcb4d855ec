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
    public var errorCount = 0
    public var errors: [String] = []
    public var validationPassed = true
    public var validationWarnings: [String] = []
    public var validationIssues: [Issue] = []
    public var batchProcessing = BatchProcessing(
        enabled: true, batchCount: 0, batchesSucceeded: 0, batchesFailed: 0, batchErrors: [])
    public var batchIDs: [Int64] = []
    public var compensatedBatchIDs: [Int64] = []
    public var journalFirstPosition: UInt64 = 0
    public var journalLastPosition: UInt64 = 0
    public var snapshot: String?
    public var stateChecksum = ""
    public var recovery: RecoveryReport?

    /// Empty metrics.
    public init() {}

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
        case errorCount = "error_count"
        case errors
        case validationPassed = "validation_passed"
        case validationWarnings = "validation_warnings"
        case validationIssues = "validation_issues"
        case batchProcessing = "batch_processing"
        case batchIDs = "batch_ids"
        case compensatedBatchIDs = "compensated_batch_ids"
        case journalFirstPosition = "journal_first_position"
        case journalLastPosition = "journal_last_position"
        case snapshot
        case stateChecksum = "state_checksum"
        case recovery
    }
}
