import Foundation
import GRDB
import Journal
import Store

/// The manifest of a snapshot: what it holds and how to check it (`snapshots/<name>.json`).
public struct SnapshotManifest: Codable, Sendable, Equatable {
    /// The snapshot's name; its file is `<name>.sqlite.lz4`.
    public var name: String
    /// Every journal event at or before this position is reflected in the snapshot, none after.
    public var position: UInt64
    /// The newest committed batch reflected (0: none).
    public var lastBatchID: Int64
    /// When it was taken (RFC 3339, UTC, milliseconds).
    public var time: String
    /// The logical state checksum of the managed rows.
    public var stateChecksum: String
    /// Rows per managed table.
    public var rowCounts: [String: Int]
    /// The database's schema version.
    public var schemaVersion: Int
    /// SHA-256 of the compressed file, and of the SQLite database it decodes to.
    public var fileSHA256: String
    public var databaseSHA256: String
    /// Sizes in bytes.
    public var compressedBytes: Int
    public var databaseBytes: Int
    /// Why it was taken: `manual`, `policy`, `baseline`.
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case name, position, time, reason
        case lastBatchID = "last_batch_id"
        case stateChecksum = "state_checksum"
        case rowCounts = "row_counts"
        case schemaVersion = "schema_version"
        case fileSHA256 = "file_sha256"
        case databaseSHA256 = "database_sha256"
        case compressedBytes = "compressed_bytes"
        case databaseBytes = "database_bytes"
    }

    /// The compressed database file's name.
    public var fileName: String { name + ".sqlite.lz4" }
}

/// The snapshots of a data home.
public enum Snapshots {
    /// Every snapshot manifest in the folder, oldest position first. Unreadable manifests are skipped
    /// here (verify reports them).
    public static func list(home: DataHome) -> [SnapshotManifest] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: home.snapshotsDirectory) else {
            return []
        }
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.compactMap { name in
            guard let data = FileManager.default.contents(atPath: home.snapshotsDirectory + "/" + name) else {
                return nil
            }
            return try? JSONDecoder().decode(SnapshotManifest.self, from: data)
        }.sorted { ($0.position, $0.name) < ($1.position, $1.name) }
    }

    /// Decodes snapshot `manifest` into a new SQLite file at `path`, checking both checksums.
    public static func restore(_ manifest: SnapshotManifest, home: DataHome, to path: String) throws {
        let compressed = try readFile(home.snapshotsDirectory + "/" + manifest.fileName)
        guard SHA256Digest.of(compressed).description == manifest.fileSHA256 else {
            throw UpdaterError(
                .verification, "snapshot \(manifest.name): the file does not match its manifest's checksum")
        }
        let database = try LZ4FrameCodec.decompress(compressed, expectedLength: manifest.databaseBytes)
        guard SHA256Digest.of(database).description == manifest.databaseSHA256 else {
            throw UpdaterError(
                .verification, "snapshot \(manifest.name): the decoded database does not match its checksum")
        }
        try PosixFileSystem().writeAtomically(database, to: path)
    }

    /// Which snapshots retention removes: those older than `keepDays`, except the newest snapshot and
    /// the newest one taken at or before the window's start (a rebuild to any instant inside the window
    /// starts from it), and the baseline of an imported database.
    public static func expired(_ manifests: [SnapshotManifest], now: Date, keepDays: Int)
        -> [SnapshotManifest]
    {
        let windowStart = rfc3339Milliseconds(now.addingTimeInterval(-Double(keepDays) * 86_400))
        let old = manifests.filter { $0.time < windowStart }
        guard let newest = manifests.last else { return [] }
        let anchor = manifests.last { $0.time <= windowStart }
        return old.filter { $0.name != newest.name && $0.name != anchor?.name && $0.reason != "baseline" }
    }
}

extension Session {
    /// Takes a snapshot now: an online backup of the database from one consistent read (under the
    /// write lock, after recovery), compressed as one LZ4 frame, written to a temporary file, fsynced,
    /// renamed into `snapshots/` with the folder fsynced; then its manifest the same way; then a
    /// `snapshot` event in the journal. Returns the manifest.
    public func snapshot(reason: String) throws -> SnapshotManifest {
        try FileManager.default.createDirectory(
            atPath: home.snapshotsDirectory, withIntermediateDirectories: true)
        try journal.sync()
        let position = journal.nextPosition - 1
        let time = rfc3339Milliseconds(Date())
        let stamp = time.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
            .replacingOccurrences(of: ".", with: "")
        let name = "snapshot-\(String(format: "%020llu", position))-\(stamp)"
        let temporary = home.snapshotsDirectory + "/.tmp-\(name).sqlite"
        try? FileManager.default.removeItem(atPath: temporary)
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        var counts: [String: Int] = [:]
        var lastBatch: Int64 = 0
        try store.queue.read { db in
            for table in Schema.managedTables {
                counts[table.name] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.name)") ?? 0
            }
            lastBatch = try Int64.fetchOne(db, sql: "SELECT MAX(batch_id) FROM journal_batches") ?? 0
            // The backup copies the pages of this read transaction: one consistent state.
            let destination = try DatabaseQueue(path: temporary)
            try destination.writeWithoutTransaction { target in try db.backup(to: target) }
            try destination.close()
        }
        let database = try readFile(temporary)
        let compressed = try LZ4FrameCodec.compress(database)
        let manifest = SnapshotManifest(
            name: name, position: position, lastBatchID: lastBatch, time: time,
            stateChecksum: checksum.description,
            rowCounts: counts, schemaVersion: try store.schemaVersion(),
            fileSHA256: SHA256Digest.of(compressed).description,
            databaseSHA256: SHA256Digest.of(database).description,
            compressedBytes: compressed.count, databaseBytes: database.count, reason: reason)
        let fileSystem = PosixFileSystem()
        try fileSystem.writeAtomically(compressed, to: home.snapshotsDirectory + "/" + manifest.fileName)
        try fileSystem.writeAtomically(
            Array(try jsonBytes(manifest)), to: home.snapshotsDirectory + "/" + manifest.name + ".json")
        try journal.append([
            try JournalEvent(
                type: EventType.snapshot, fields: SnapshotEvent(manifest: manifest), keys: ["snapshot"])
        ])
        return manifest
    }

    /// Takes a snapshot when the newest one is older than `maximumAge` (or there is none), then applies
    /// retention. Returns the snapshot taken, if any.
    public func applySnapshotPolicy(maximumAge: TimeInterval = 86_400, keepDays: Int = 7) throws
        -> SnapshotManifest?
    {
        let manifests = Snapshots.list(home: home)
        let limit = rfc3339Milliseconds(Date().addingTimeInterval(-maximumAge))
        var taken: SnapshotManifest?
        if manifests.last.map({ $0.time < limit }) ?? true {
            taken = try snapshot(reason: "policy")
        }
        for manifest in Snapshots.expired(Snapshots.list(home: home), now: Date(), keepDays: keepDays) {
            try? FileManager.default.removeItem(
                atPath: home.snapshotsDirectory + "/" + manifest.name + ".json")
            try? FileManager.default.removeItem(atPath: home.snapshotsDirectory + "/" + manifest.fileName)
        }
        return taken
    }
}

/// `snapshot`: a snapshot was taken (its manifest under `manifest`, whose `position` must not collide
/// with the event's own).
struct SnapshotEvent: Codable {
    var manifest: SnapshotManifest
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw UpdaterError(.failure, "cannot read \(path)")
    }
    return Array(data)
}

func jsonBytes<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return try encoder.encode(value)
}
