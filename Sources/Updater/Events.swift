import Foundation
import Journal
import Store

/// The journal's event types written by the updater, and their fields (snake_case JSON keys).
///
/// docs/journal-format.md describes the envelope; docs/architecture.md lists these events. Every event
/// of a run carries the key `run:<id>`; batch events carry `batch:<id>`; an intent also carries
/// `row:<table>:<primary key>` for each row it changes, so audit finds later batches touching the same
/// rows through the index.
public enum EventType {
    public static let runStarted = "run_started"
    public static let runFinished = "run_finished"
    public static let batchIntent = "batch_intent"
    public static let batchOutcome = "batch_outcome"
    public static let rejected = "rejected"
    public static let recovery = "recovery"
    public static let snapshot = "snapshot"
    public static let genesis = "genesis"
    public static let anomaly = "anomaly"
}

/// `run_started`: a writing command began.
public struct RunStarted: Codable, Sendable, Equatable {
    public var runID: Int64
    public var command: String
    public var source: String?
    public var congress: Int?
    public var lookbackDays: Int?
    public var batchSize: Int?
    public var atomic: Bool

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case command, source, congress, atomic
        case lookbackDays = "lookback_days"
        case batchSize = "batch_size"
    }
}

/// What a batch does.
public enum BatchKind: String, Codable, Sendable {
    /// Changes from the source.
    case ingest
    /// The inverse of a committed batch (`compensates` names it): revert, atomic-run abort, recovery.
    case compensation
}

/// `batch_intent`: the mutations a batch is about to apply, with whole before- and after-images.
/// Durable before the batch touches the database.
public struct BatchIntent: Codable, Sendable, Equatable {
    public var batchID: Int64
    public var runID: Int64
    public var kind: BatchKind
    /// For a compensation: the batch it undoes.
    public var compensates: Int64?
    /// Why a compensation was made: `revert`, `atomic-run`, `recovery`.
    public var reason: String?
    /// The source items (meeting event ids, committee codes) the batch carries.
    public var items: [String]
    public var mutations: [Mutation]
    /// The logical state checksum before and after the batch.
    public var checksumBefore: String
    public var checksumAfter: String

    enum CodingKeys: String, CodingKey {
        case batchID = "batch_id"
        case runID = "run_id"
        case kind, compensates, reason, items, mutations
        case checksumBefore = "checksum_before"
        case checksumAfter = "checksum_after"
    }
}

/// How a batch ended.
public enum BatchResult: String, Codable, Sendable {
    case committed
    case failed
    /// Found by recovery: the intent is in the journal but SQLite rolled the transaction back.
    case aborted
}

/// `batch_outcome`: how a batch ended. Written without waiting for the disk: if it is lost, recovery
/// rebuilds it from the database marker.
public struct BatchOutcome: Codable, Sendable, Equatable {
    public var batchID: Int64
    public var runID: Int64
    public var result: BatchResult
    public var reason: String?
    /// Whether recovery, not the batch's own run, wrote this outcome.
    public var recovered: Bool
    public var stateChecksum: String?
    public var durationMilliseconds: Double?

    enum CodingKeys: String, CodingKey {
        case batchID = "batch_id"
        case runID = "run_id"
        case result, reason, recovered
        case stateChecksum = "state_checksum"
        case durationMilliseconds = "duration_ms"
    }
}

/// `rejected`: an item left out of its batch, with the field and the problem.
public struct Rejected: Codable, Sendable, Equatable {
    public var runID: Int64
    public var batchID: Int64?
    public var item: String
    public var field: String
    public var problem: String

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case batchID = "batch_id"
        case item, field, problem
    }
}

/// `run_finished`: the run's metrics (the ingest metrics document), written last.
public struct RunFinished: Codable, Sendable {
    public var runID: Int64
    public var status: String
    public var metrics: IngestMetrics?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case status, metrics
    }
}

/// `anomaly`: a run raised a critical anomaly and is being undone (`--on-anomaly revert`). Durable
/// before the first compensation, so that recovery can finish the reversal if the process dies in it.
public struct RunAnomaly: Codable, Sendable, Equatable {
    public var runID: Int64
    /// `revert`: the run's batches are compensated, newest first.
    public var action: String
    /// The batches the run committed, in commit order: the ones to undo.
    public var batchIDs: [Int64]
    /// The run's alerts (the critical ones and the rest), as its metrics hold them.
    public var alerts: [RunAlert]

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case batchIDs = "batch_ids"
        case action, alerts
    }
}

/// `recovery`: what recovery found and did (written only when it changed something).
public struct RecoveryEvent: Codable, Sendable, Equatable {
    public var runID: Int64
    public var actions: [String]

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case actions
    }
}

/// The envelope fields every updater event shares, for dispatching on `type` while reading.
struct EventEnvelope: Decodable {
    var type: String
    var runID: Int64?
    var batchID: Int64?

    enum CodingKeys: String, CodingKey {
        case type
        case runID = "run_id"
        case batchID = "batch_id"
    }
}

extension JournalEvent {
    static func runKey(_ run: Int64) -> String { "run:\(run)" }
    /// The key every `run_started` carries: its positions are the journal's run ids (`hearings log`).
    static let runsKey = "runs"
    static func batchKey(_ batch: Int64) -> String { "batch:\(batch)" }
    static func rowKey(table: String, key: RowImage) -> String {
        "row:\(table):"
            + key.columns.sorted { $0.key < $1.key }.map { $0.value.text ?? "NULL" }.joined(separator: ",")
    }
}

extension BatchIntent {
    /// The intent's journal body: exactly the bytes `JournalEvent(type:fields:)` writes through
    /// `JSONEncoder` (sorted keys, absent optionals left out, slashes unescaped), several times faster.
    ///
    /// Why by hand: every batch encodes each mutation's before- and after-image, and through `Codable`
    /// that was about a third of a batch's time (and most of what the journal costs an ingest). Reals
    /// and blobs, rare in rows, still go through `JSONEncoder`. A test checks both encodings agree on
    /// real intents and on text with every kind of character JSON escapes.
    func journalBody() -> [UInt8] {
        let intent = self
        var out: [UInt8] = []
        out.reserveCapacity(256 + intent.mutations.count * 600)
        out += Array("{\"batch_id\":\(intent.batchID),\"checksum_after\":".utf8)
        appendJSONString(intent.checksumAfter, to: &out)
        out += Array(",\"checksum_before\":".utf8)
        appendJSONString(intent.checksumBefore, to: &out)
        if let compensates = intent.compensates { out += Array(",\"compensates\":\(compensates)".utf8) }
        out += Array(",\"items\":[".utf8)
        for (index, item) in intent.items.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendJSONString(item, to: &out)
        }
        out += Array("],\"kind\":\"\(intent.kind.rawValue)\",\"mutations\":[".utf8)
        for (index, mutation) in intent.mutations.enumerated() {
            out += Array((index > 0 ? ",{" : "{").utf8)
            var separator = ""
            if let after = mutation.after {
                out += Array("\"after\":".utf8)
                Self.appendImage(after, to: &out)
                separator = ","
            }
            if let before = mutation.before {
                out += Array("\(separator)\"before\":".utf8)
                Self.appendImage(before, to: &out)
                separator = ","
            }
            out += Array("\(separator)\"key\":".utf8)
            Self.appendImage(mutation.key, to: &out)
            out += Array(",\"kind\":\"\(mutation.kind.rawValue)\",\"table\":".utf8)
            appendJSONString(mutation.table, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        if let reason = intent.reason {
            out += Array(",\"reason\":".utf8)
            appendJSONString(reason, to: &out)
        }
        out += Array(",\"run_id\":\(intent.runID)}".utf8)
        return out
    }

    /// Configured as the journal's encoder (`JournalEvent(type:fields:)`).
    private static let valueEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    private static func appendImage(_ image: RowImage, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        let names = image.columns.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for (index, column) in names.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendJSONString(column, to: &out)
            out.append(UInt8(ascii: ":"))
            switch image[column] {
            case .null: out += Array("null".utf8)
            case .integer(let value): out += Array(String(value).utf8)
            case .text(let text): appendJSONString(text, to: &out)
            case .real, .blob:
                // Rare in rows: the encoder's own output, so the bytes stay exactly the same.
                out += (try? Self.valueEncoder.encode(image[column])).map { Array($0) } ?? Array("null".utf8)
            }
        }
        out.append(UInt8(ascii: "}"))
    }
}

/// Appends `text` as a JSON string with the escapes `JSONEncoder` writes: quote, backslash,
/// `\b \f \n \r \t`, other control characters as `\u00XX`; slashes and everything else as they are.
/// Runs of bytes that need no escape (nearly all of them) are copied whole.
func appendJSONString(_ text: String, to out: inout [UInt8]) {
    let backslash = UInt8(ascii: "\\")
    let quote = UInt8(ascii: "\"")
    out.append(quote)
    var text = text
    text.withUTF8 { bytes in
        var runStart = 0
        for index in bytes.indices {
            let byte = bytes[index]
            guard byte < 0x20 || byte == quote || byte == backslash else { continue }
            out.append(contentsOf: bytes[runStart..<index])
            runStart = index + 1
            switch byte {
            case quote, backslash: out += [backslash, byte]
            case 0x0a: out += [backslash, UInt8(ascii: "n")]
            case 0x0d: out += [backslash, UInt8(ascii: "r")]
            case 0x09: out += [backslash, UInt8(ascii: "t")]
            case 0x08: out += [backslash, UInt8(ascii: "b")]
            case 0x0c: out += [backslash, UInt8(ascii: "f")]
            default:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
            }
        }
        out.append(contentsOf: bytes[runStart...])
    }
    out.append(quote)
}
