import Foundation
import GRDB
import Store
import Testing

@testable import Congress

/// Files of the repository, found from this file's path (the test target has no resources).
enum RepositoryFiles {
    /// The repository root: three levels up from this file.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// `Sources/Congress/Resources/sample`.
    static let sample = root.appendingPathComponent("Sources/Congress/Resources/sample")
    /// Every meeting of the real database, one detail response per line.
    static let meetingsFixture = root.appendingPathComponent(
        "Tests/CongressTests/Fixtures/meetings-119.jsonl")
}

/// A migrated database in a fresh temporary directory, removed when the value goes away.
final class TemporaryStore {
    let directory: URL
    let store: Store

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hearings-mapping-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try Store(path: directory.appendingPathComponent("hearings.sqlite").path)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Diffs `meetings` in one transaction with one allocator, applies the mutations, returns them.
    @discardableResult
    func apply(_ meetings: [MappedMeeting], at timestamp: String = defaultTimestamp) throws -> [Mutation] {
        let differ = try MeetingDiffer(timestamp: timestamp)
        return try store.queue.write { db in
            var allocator = RowIDAllocator()
            var all: [Mutation] = []
            for meeting in meetings {
                all += try differ.mutations(for: meeting, in: db, allocator: &allocator)
            }
            try Store.apply(all, db)
            return all
        }
    }

    /// Diffs one meeting, applies it, returns the mutations.
    @discardableResult
    func apply(_ meeting: MappedMeeting, at timestamp: String = defaultTimestamp) throws -> [Mutation] {
        try apply([meeting], at: timestamp)
    }

    /// The mutations `meeting` would need, without applying them.
    func diff(_ meeting: MappedMeeting, at timestamp: String = defaultTimestamp) throws -> [Mutation] {
        let differ = try MeetingDiffer(timestamp: timestamp)
        return try store.queue.read { db in
            var allocator = RowIDAllocator()
            return try differ.mutations(for: meeting, in: db, allocator: &allocator)
        }
    }

    /// Loads `committees` (the committee list) and applies them.
    @discardableResult
    func loadCommittees(_ committees: [MappedCommittee], at timestamp: String = defaultTimestamp) throws
        -> [Mutation]
    {
        let differ = try CommitteeDiffer(timestamp: timestamp)
        return try store.queue.write { db in
            var allocator = RowIDAllocator()
            let mutations = try differ.mutations(for: committees, in: db, allocator: &allocator)
            try Store.apply(mutations, db)
            return mutations
        }
    }

    /// Every row of `table`.
    func rows(_ table: TableSchema) throws -> [RowImage] {
        try store.queue.read { db in try Store.allRows(in: table, db) }
    }

    /// Every row of every managed table, by table name.
    func allRows() throws -> [String: [RowImage]] {
        try store.queue.read { db in
            var result: [String: [RowImage]] = [:]
            for table in Schema.managedTables { result[table.name] = try Store.allRows(in: table, db) }
            return result
        }
    }

    /// The rows `PRAGMA foreign_key_check` reports (empty when every reference holds).
    func foreignKeyViolations() throws -> Int {
        try store.queue.read { db in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").count }
    }

    /// The result of `PRAGMA integrity_check`.
    func integrity() throws -> String {
        try store.queue.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "" }
    }

    /// The checksum computed from scratch.
    func checksum() throws -> StateChecksum {
        try store.queue.read { db in try StateChecksum.compute(db) }
    }
}

/// The timestamp tests write unless they say otherwise.
let defaultTimestamp = "2025-10-02 12:00:00"

/// The committees of `sample/committees.json`, mapped for congress 119.
func sampleCommittees() throws -> [MappedCommittee] {
    let data = try Data(contentsOf: RepositoryFiles.sample.appendingPathComponent("committees.json"))
    let list = try CommitteeListResponse.decode(from: data, source: "committees.json")
    return try list.committees.map { try MappedCommittee($0, congress: 119) }
}

/// The meetings of `sample/<day>/{house,senate}/*.json`, by event id, with their raw bytes.
func sampleDay(_ day: String) throws -> [String: (meeting: CommitteeMeeting, raw: Data)] {
    var result: [String: (meeting: CommitteeMeeting, raw: Data)] = [:]
    for chamber in ["house", "senate"] {
        let folder = RepositoryFiles.sample.appendingPathComponent(day).appendingPathComponent(chamber)
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path)
        where name.hasSuffix(".json") {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            let meeting = try CommitteeMeetingDetailResponse.decode(from: data, source: name).committeeMeeting
            result[meeting.eventId] = (meeting, data)
        }
    }
    return result
}

/// The meetings of the fixture of the real database, in file order.
func fixtureMeetings() throws -> [CommitteeMeeting] {
    let text = try String(contentsOf: RepositoryFiles.meetingsFixture, encoding: .utf8)
    return try text.split(separator: "\n").enumerated().map { index, line in
        try CommitteeMeetingDetailResponse.decode(from: Data(line.utf8), source: "line \(index + 1)")
            .committeeMeeting
    }
}

/// A House hearing with one committee and no children, changed by `change`.
func makeMeeting(
    eventId: String = "900001", _ change: (inout CommitteeMeeting) -> Void = { _ in }
) -> CommitteeMeeting {
    var meeting = CommitteeMeeting(
        eventId: eventId, chamber: .house, congress: 119, type: "Hearing", title: "Oversight of Widgets",
        meetingStatus: "Scheduled", date: CongressDate.parse("2025-03-24T14:00:00Z"),
        updateDate: CongressDate.parse("2025-03-20T09:15:00Z"),
        location: .init(room: "2358-A", building: "Rayburn House Office Building"),
        committees: [
            CommitteeReference(
                systemCode: "hsap06", name: "Interior, Environment, and Related Agencies Subcommittee",
                url: "https://api.congress.gov/v3/committee/house/hsap06?format=json")
        ])
    change(&meeting)
    return meeting
}

/// A witness document URL in Congress.gov's naming.
func witnessFileURL(_ eventId: String, kind: String, token: String) -> String {
    "https://www.congress.gov/119/meeting/house/\(eventId)/witnesses/HHRG-119-AP06-\(kind)-\(token)-20250324.pdf"
}

extension Array where Element == Mutation {
    /// The mutations of `table` (and of `kind`, when given).
    func of(_ table: TableSchema, _ kind: Mutation.Kind? = nil) -> [Mutation] {
        filter { $0.table == table.name && (kind == nil || $0.kind == kind) }
    }
}
