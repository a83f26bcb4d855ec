import Congress
import Foundation
import GRDB
import Journal
import Store

/// What `hearings import-legacy` adopted, and the flaws the data carries.
public struct LegacyImportReport: Codable, Sendable {
    /// One kind of flaw, how often it occurs and a few examples (event ids, names).
    public struct Flaw: Codable, Sendable, Equatable {
        public var kind: String
        public var count: Int
        public var examples: [String]
    }

    public var source: String
    public var sourceSHA256: String
    public var rowCounts: [String: Int]
    public var flaws: [Flaw]
    public var stateChecksum: String
    public var genesisPosition: UInt64
    public var snapshot: String

    enum CodingKeys: String, CodingKey {
        case source, flaws, snapshot
        case sourceSHA256 = "source_sha256"
        case rowCounts = "row_counts"
        case stateChecksum = "state_checksum"
        case genesisPosition = "genesis_position"
    }
}

extension Session {
    /// Adopts a predecessor database as this (empty) data home's baseline: copies its rows into the
    /// schema, journals a `genesis` event (the source file's SHA-256, the row counts, the flaws), and
    /// takes the baseline snapshot that every later rebuild starts from.
    ///
    /// Nothing is "fixed": empty titles, meetings with two primary committees, every status `Scheduled`
    /// and repeated witness names are kept as they are and reported. Rows the schema cannot hold make
    /// the import fail, naming the table, the row and SQLite's reason; nothing is written then.
    public func importLegacy(path: String) throws -> LegacyImportReport {
        let empty = try store.queue.read { db in
            try Schema.managedTables.allSatisfy {
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \($0.name)") == 0
            }
        }
        guard empty, journal.nextPosition == 1 else {
            throw UpdaterError(
                .failure,
                "import-legacy needs an empty data home: \(home.path) already has a database or a journal")
        }
        let sourceBytes = try readFile(path)
        var configuration = Configuration()
        configuration.readonly = true
        let legacy = try DatabaseQueue(path: path, configuration: configuration)
        var mutations: [Mutation] = []
        var flaws: [LegacyImportReport.Flaw] = []
        var sequences: [String: Int64] = [:]
        try legacy.read { db in
            for table in Schema.managedTables {
                guard try db.tableExists(table.name) else {
                    throw UpdaterError(
                        .failure, "\(path) is not a predecessor database: it has no table \(table.name)")
                }
                let legacyColumns = Set(try db.columns(in: table.name).map(\.name))
                var identities: [String: Int64] = [:]
                var repeated: [String] = []
                var appearanceHearings: [Int64: Int64] = [:]
                if table.name == Schema.witnessDocuments.name {
                    for row in try Row.fetchAll(
                        db, sql: "SELECT appearance_id, hearing_id FROM witness_appearances")
                    {
                        appearanceHearings[row["appearance_id"]] = row["hearing_id"]
                    }
                }
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table.name) ORDER BY rowid") {
                    var image = RowImage([:])
                    for column in table.columns {
                        image[column] =
                            legacyColumns.contains(column) ? Value(row[column] as DatabaseValue) : .null
                    }
                    if table.name == Schema.witnesses.name {
                        let fullName = image["full_name"].text ?? ""
                        let organization = image["organization"].text
                        var key =
                            WitnessName(fullName).map {
                                WitnessIdentity.key(name: $0, organization: organization)
                            }
                            ?? "legacy:\(fullName)"
                        if identities[key] != nil {
                            repeated.append(fullName)
                            key += "#legacy-\(image["witness_id"].text ?? "")"
                        }
                        if case .integer(let id) = image["witness_id"] { identities[key] = id }
                        image["identity_key"] = .text(key)
                    }
                    if table.name == Schema.witnessDocuments.name,
                        case .integer(let appearance) = image["appearance_id"]
                    {
                        image["hearing_id"] = .optionalInteger(appearanceHearings[appearance])
                    }
                    mutations.append(Mutation(kind: .insert, table: table, before: nil, after: image))
                }
                if !repeated.isEmpty {
                    flaws.append(
                        .init(
                            kind: "witnesses whose name and organization repeat (kept as separate witnesses)",
                            count: repeated.count,
                            examples: Array(Set(repeated)).sorted().prefix(5).map { $0 }))
                }
                if let sequence = try Int64.fetchOne(
                    db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [table.name])
                {
                    sequences[table.name] = sequence
                }
            }
            flaws += try legacyFlaws(db)
        }
        var counts: [String: Int] = [:]
        for mutation in mutations { counts[mutation.table, default: 0] += 1 }
        let after = try store.queue.inDatabase { db -> StateChecksum in
            try db.inTransaction(.immediate) {
                // The predecessor's rows reference each other in any order (a subcommittee before its
                // parent): check foreign keys at COMMIT, where a dangling reference still fails.
                try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
                for mutation in mutations {
                    do {
                        try Store.apply([mutation], db)
                    } catch let error as DatabaseError {
                        let key = mutation.key.columns.map { "\($0.key)=\($0.value)" }.sorted().joined(
                            separator: ",")
                        throw UpdaterError(
                            .failure,
                            "\(mutation.table) row \(key) cannot be adopted: \(error.message ?? "SQLite error \(error.resultCode)"); "
                                + "nothing was imported")
                    }
                }
                for (table, sequence) in sequences {
                    try db.execute(
                        sql: "UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?",
                        arguments: [sequence, table])
                }
                return .commit
            }
            return try StateChecksum.compute(db)
        }
        checksum = after
        let report = LegacyImportReport(
            source: URL(fileURLWithPath: path).lastPathComponent,
            sourceSHA256: SHA256Digest.of(sourceBytes).description,
            rowCounts: counts, flaws: flaws, stateChecksum: after.description,
            genesisPosition: journal.nextPosition,
            snapshot: "")
        try journal.append([try JournalEvent(type: EventType.genesis, fields: report, keys: ["genesis"])])
        try advanceCheckpoint()
        let baseline = try snapshot(reason: "baseline")
        var result = report
        result.snapshot = baseline.name
        return result
    }

    private func legacyFlaws(_ db: Database) throws -> [LegacyImportReport.Flaw] {
        func flaw(_ kind: String, _ sql: String) throws -> LegacyImportReport.Flaw? {
            let examples = try String.fetchAll(db, sql: sql)
            return examples.isEmpty
                ? nil : .init(kind: kind, count: examples.count, examples: Array(examples.prefix(5)))
        }
        return try [
            flaw(
                "witness names that appear on more than one witness row",
                "SELECT full_name FROM witnesses GROUP BY full_name HAVING COUNT(*) > 1 ORDER BY full_name"),
            flaw(
                "meetings with an empty title",
                "SELECT event_id FROM hearings WHERE trim(title) = '' ORDER BY event_id"),
            flaw(
                "meetings without a date",
                "SELECT event_id FROM hearings WHERE hearing_date IS NULL ORDER BY event_id"),
            flaw(
                "meetings with two or more primary committees",
                """
                SELECT h.event_id FROM hearings h JOIN hearing_committees c USING (hearing_id)
                WHERE c.is_primary = 1 GROUP BY h.hearing_id HAVING COUNT(*) > 1 ORDER BY h.event_id
                """),
            flaw(
                "meetings stored as Scheduled (the predecessor never read meetingStatus)",
                "SELECT event_id FROM hearings WHERE status = 'Scheduled' ORDER BY event_id"),
            flaw(
                "Senate meetings typed Hearing (the API types most of them Meeting)",
                "SELECT event_id FROM hearings WHERE chamber = 'Senate' AND hearing_type = 'Hearing' ORDER BY event_id"
            ),
            flaw(
                "meetings without a location",
                "SELECT event_id FROM hearings WHERE location IS NULL ORDER BY event_id"),
            flaw(
                "meetings without a jacket number",
                "SELECT event_id FROM hearings WHERE jacket_number IS NULL ORDER BY event_id"),
        ].compactMap { $0 }
    }
}
