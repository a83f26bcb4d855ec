import Foundation
import GRDB
import Journal
import Store

/// What `hearings verify` found.
public struct VerifyReport: Codable, Sendable {
    /// One checked item and its verdict.
    public struct Check: Codable, Sendable {
        public var name: String
        public var ok: Bool
        public var detail: String
    }

    public var checks: [Check] = []
    /// Whether every check passed.
    public var ok: Bool { checks.allSatisfy(\.ok) }

    mutating func add(_ name: String, _ ok: Bool, _ detail: String) {
        checks.append(Check(name: name, ok: ok, detail: detail))
    }

    enum CodingKeys: String, CodingKey {
        case checks
        case ok
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(checks, forKey: .checks)
        try container.encode(ok, forKey: .ok)
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        checks = try container.decode([Check].self, forKey: .checks)
    }
}

/// Checks a data home end to end, changing nothing: the journal (frames, checksums, hash chain,
/// positions, index), every snapshot against its manifest, the database's markers against the journal,
/// and the live database's state checksum recomputed from scratch against the journal's (which catches
/// edits made behind the journal's back). With `drill`, also rebuilds the head into a temporary file and
/// compares it with the live database.
public enum Verifier {
    public static func run(home: DataHome, drill: Bool = false) throws -> VerifyReport {
        var report = VerifyReport()
        let journalReport = try Journal.verify(JournalConfiguration(directory: home.journalDirectory))
        report.add(
            "journal", journalReport.isSound,
            journalReport.isSound
                ? "\(journalReport.segments) segments, \(journalReport.records) records, \(journalReport.events) events; "
                    + "frames, checksums, hash chain and positions sound"
                    + (journalReport.tornTail.map { "; torn tail: \($0)" } ?? "")
                : journalReport.problems.joined(separator: "; "))
        report.add(
            "journal index", true,
            journalReport.indexFresh ? "fresh" : "stale or missing (derived; rebuilt on the next open)")

        for manifest in Snapshots.list(home: home) {
            let path = home.snapshotsDirectory + "/" + manifest.fileName
            do {
                let compressed = try readFile(path)
                guard compressed.count == manifest.compressedBytes,
                    SHA256Digest.of(compressed).description == manifest.fileSHA256
                else {
                    report.add(
                        "snapshot \(manifest.name)", false,
                        "the file does not match its manifest (size or SHA-256)")
                    continue
                }
                let database = try LZ4FrameCodec.decompress(
                    compressed, expectedLength: manifest.databaseBytes)
                let ok = SHA256Digest.of(database).description == manifest.databaseSHA256
                report.add(
                    "snapshot \(manifest.name)", ok,
                    ok
                        ? "position \(manifest.position), \(manifest.compressedBytes) bytes, checksums match"
                        : "the decoded database does not match its manifest's SHA-256")
            } catch {
                report.add("snapshot \(manifest.name)", false, "cannot be read or decoded: \(error)")
            }
        }

        guard FileManager.default.fileExists(atPath: home.databasePath) else {
            report.add("database", false, "no database at \(home.databasePath)")
            return report
        }
        let store = try Store(path: home.databasePath)
        let (markers, checkpoint, scratch, integrity) = try store.queue.read { db in
            (
                try Row.fetchAll(
                    db,
                    sql:
                        "SELECT batch_id, intent_position, state_checksum FROM journal_batches ORDER BY batch_id"
                ),
                try Checkpoint.read(db),
                try StateChecksum.compute(db),
                try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer"
            )
        }
        report.add("database integrity", integrity == "ok", integrity)
        if journalReport.isSound {
            let journal = try Journal.open(
                JournalConfiguration(directory: home.journalDirectory), mode: .readOnly)
            var missing: [String] = []
            for marker in markers {
                let batch: Int64 = marker["batch_id"]
                let position: Int64 = marker["intent_position"]
                // The head says which batch's intent it is; the row images need not be decoded.
                guard let entry = try journal.entry(at: UInt64(position)),
                    let head = try? EventLineReader.head(entry.line, beforeMutations: true),
                    head.type == EventType.batchIntent, head.batchID == batch
                else {
                    missing.append("batch \(batch) at position \(position)")
                    continue
                }
            }
            report.add(
                "database markers", missing.isEmpty,
                missing.isEmpty
                    ? "\(markers.count) committed batches, each with its intent in the journal"
                    : "markers without their intent in the journal: "
                        + missing.prefix(10).joined(separator: ", "))
            // The journal's latest state: the last committed batch's checksum, else the newest snapshot's.
            let expected =
                markers.last.map { $0["state_checksum"] as String } ?? checkpoint.checksum.description
            let ok = scratch.description == expected && checkpoint.checksum == scratch
            report.add(
                "state checksum", ok,
                ok
                    ? "\(scratch) recomputed from every row equals the journal's"
                    : "the rows give \(scratch), the journal says \(expected) (checkpoint \(checkpoint.checksum)): the "
                        + "database was changed behind the journal's back, or is not the journal's")
        }
        if drill {
            let temporary = NSTemporaryDirectory() + "hearings-drill-\(getpid()).sqlite"
            defer { try? FileManager.default.removeItem(atPath: temporary) }
            do {
                let journal = try Journal.open(
                    JournalConfiguration(directory: home.journalDirectory), mode: .readOnly)
                let rebuilt = try Rebuild.run(
                    home: home, target: .position(journal.nextPosition - 1), output: temporary, force: true)
                let ok = rebuilt.checksum == scratch.description
                report.add(
                    "drill", ok,
                    ok
                        ? "rebuilt the head from \(rebuilt.snapshot ?? "an empty database") + \(rebuilt.batchesReplayed.count) "
                            + "batches; it equals the live database"
                        : "the rebuilt head (\(rebuilt.checksum ?? "?")) differs from the live database (\(scratch))"
                )
            } catch {
                report.add("drill", false, "the rebuild failed: \(error)")
            }
        }
        return report
    }
}
