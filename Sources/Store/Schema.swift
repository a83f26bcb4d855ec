import GRDB

/// A table whose rows the journal manages: its columns in declaration order and its primary key.
public struct TableSchema: Hashable, Sendable {
    /// The table's name.
    public let name: String
    /// Every column, in declaration order.
    public let columns: [String]
    /// The primary-key columns.
    public let primaryKey: [String]
    /// The columns that identify a row to people (shown by audit next to the row id).
    public let naturalKey: [String]
    /// `columns` sorted bytewise by UTF-8: the order the state checksum encodes them in.
    public let columnsInChecksumOrder: [String]
    /// The columns outside the primary key, in declaration order.
    public let nonKeyColumns: [String]
    /// Whether the table has `created_at`: asked for every inserted row.
    public let hasCreatedAt: Bool
    /// Whether the table has `updated_at`: asked for every inserted and updated row.
    public let hasUpdatedAt: Bool
    /// The statements that read and write one row, built once: they run once per mutation.
    public let sql: RowStatements
    /// The constant parts of the state checksum's row encoding, built once: it runs for every image.
    public let checksumNames: ChecksumNames

    /// A table's description.
    public init(name: String, columns: [String], primaryKey: [String], naturalKey: [String]) {
        self.name = name
        self.columns = columns
        self.primaryKey = primaryKey
        self.naturalKey = naturalKey
        columnsInChecksumOrder = sortedByUTF8(columns)
        nonKeyColumns = columns.filter { !primaryKey.contains($0) }
        hasCreatedAt = columns.contains("created_at")
        hasUpdatedAt = columns.contains("updated_at")
        sql = RowStatements(
            name: name, columns: columns, primaryKey: primaryKey, nonKeyColumns: nonKeyColumns)
        checksumNames = ChecksumNames(name: name, columns: columnsInChecksumOrder, primaryKey: primaryKey)
    }
}

/// A table's name and column names as the state checksum encodes them (a `u32` length, then the
/// UTF-8 bytes), and where the key columns are among the columns in checksum order.
public struct ChecksumNames: Hashable, Sendable {
    /// The encoded table name.
    public let table: [UInt8]
    /// The encoded column names, in checksum order (`TableSchema.columnsInChecksumOrder`).
    public let columns: [[UInt8]]
    /// For each primary-key column, its index in `columns`.
    public let keyIndexes: [Int]

    init(name: String, columns: [String], primaryKey: [String]) {
        func encoded(_ text: String) -> [UInt8] {
            withUnsafeBytes(of: UInt32(text.utf8.count).littleEndian) { Array($0) } + Array(text.utf8)
        }
        table = encoded(name)
        self.columns = columns.map(encoded)
        keyIndexes = primaryKey.map { columns.firstIndex(of: $0) ?? 0 }
    }
}

/// The SQL of a table's one-row statements. Updates and deletes are guarded by the row's before-image
/// (`column IS ?` for every column outside the key), so one statement both checks and applies a
/// mutation: it changes no row when the database does not hold the expected row.
public struct RowStatements: Hashable, Sendable {
    /// `SELECT` every column of the row with the given key (key columns bound in order).
    public let select: String
    /// `INSERT` every column (bound in declaration order).
    public let insert: String
    /// `UPDATE` every column (after-image in declaration order), where the key and every other column
    /// hold the before-image (key, then the before-image of the non-key columns).
    public let guardedUpdate: String
    /// `DELETE` the row whose key and every other column hold the before-image.
    public let guardedDelete: String
    /// For each column, `SELECT` every column of the rows where that column equals the bound value,
    /// in primary-key order: the differ's lookups, built once instead of on every call.
    public let selectWhere: [String: String]
    /// `SELECT` every column of every row, in primary-key order.
    public let selectAll: String
    /// The table's name and the guard of `guardedUpdate` and `guardedDelete`.
    private let name: String
    private let guarded: String

    init(name: String, columns: [String], primaryKey: [String], nonKeyColumns: [String]) {
        let key = primaryKey.map { "\($0) = ?" }.joined(separator: " AND ")
        let guarded = ([key] + nonKeyColumns.map { "\($0) IS ?" }).joined(separator: " AND ")
        self.name = name
        self.guarded = guarded
        select = "SELECT \(columns.joined(separator: ", ")) FROM \(name) WHERE \(key)"
        insert =
            "INSERT INTO \(name) (\(columns.joined(separator: ", "))) VALUES ("
            + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        guardedUpdate =
            "UPDATE \(name) SET \(columns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE \(guarded)"
        guardedDelete = "DELETE FROM \(name) WHERE \(guarded)"
        let selectColumns = "SELECT \(columns.joined(separator: ", ")) FROM \(name)"
        let order = "ORDER BY \(primaryKey.joined(separator: ", "))"
        selectWhere = Dictionary(
            uniqueKeysWithValues: columns.map { ($0, "\(selectColumns) WHERE \($0) = ? \(order)") })
        selectAll = "\(selectColumns) \(order)"
    }

    /// `guardedUpdate` setting only `columns` (after-image of those, in the order given; then the key
    /// and the before-image of the non-key columns, as `guardedUpdate`).
    ///
    /// Replay sets only the columns a mutation changes: SQLite rewrites the entries of every index on a
    /// column it sets, and setting the primary key makes it look up the rows of every child table.
    public func guardedUpdate(setting columns: [String]) -> String {
        "UPDATE \(name) SET \(columns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE \(guarded)"
    }
}

/// The schema of the hearings database.
///
/// Table and column names are the predecessor's, so existing readers keep working. Its constraints are
/// fixed where the real API violates them (see `Migrations`). Row ids are assigned by the updater and
/// written explicitly; column defaults exist for other writers but never fire for journaled rows.
public enum Schema {
    public static let committees = TableSchema(
        name: "committees",
        columns: [
            "committee_id", "system_code", "name", "chamber", "type", "parent_committee_id", "is_current",
            "url",
            "congress", "created_at", "updated_at",
        ],
        primaryKey: ["committee_id"], naturalKey: ["system_code"])

    public static let hearings = TableSchema(
        name: "hearings",
        columns: [
            "hearing_id", "event_id", "congress", "chamber", "title", "hearing_type", "status",
            "hearing_date",
            "location", "jacket_number", "url", "congress_gov_url", "update_date", "created_at", "updated_at",
            "hearing_date_only", "hearing_time",
        ],
        primaryKey: ["hearing_id"], naturalKey: ["event_id"])

    public static let hearingCommittees = TableSchema(
        name: "hearing_committees",
        columns: ["hearing_id", "committee_id", "is_primary", "created_at"],
        primaryKey: ["hearing_id", "committee_id"], naturalKey: ["hearing_id", "committee_id"])

    public static let witnesses = TableSchema(
        name: "witnesses",
        columns: [
            "witness_id", "first_name", "last_name", "full_name", "title", "organization", "created_at",
            "updated_at",
            "identity_key",
        ],
        primaryKey: ["witness_id"], naturalKey: ["full_name", "organization"])

    public static let witnessAppearances = TableSchema(
        name: "witness_appearances",
        columns: [
            "appearance_id", "witness_id", "hearing_id", "position", "witness_type", "appearance_order",
            "created_at",
        ],
        primaryKey: ["appearance_id"], naturalKey: ["hearing_id", "witness_id"])

    public static let witnessDocuments = TableSchema(
        name: "witness_documents",
        columns: [
            "document_id", "appearance_id", "document_type", "title", "document_url", "format_type",
            "created_at",
            "updated_at", "hearing_id",
        ],
        primaryKey: ["document_id"], naturalKey: ["hearing_id", "document_url"])

    public static let supportingDocuments = TableSchema(
        name: "supporting_documents",
        columns: [
            "document_id", "hearing_id", "document_type", "title", "description", "document_url",
            "format_type",
            "created_at", "updated_at",
        ],
        primaryKey: ["document_id"], naturalKey: ["hearing_id", "document_url"])

    public static let hearingTranscripts = TableSchema(
        name: "hearing_transcripts",
        columns: [
            "transcript_id", "hearing_id", "jacket_number", "title", "document_url", "pdf_url", "html_url",
            "format_type", "created_at", "updated_at",
        ],
        primaryKey: ["transcript_id"], naturalKey: ["hearing_id", "jacket_number"])

    /// The managed tables, parents before children (the order inserts must follow).
    public static let managedTables: [TableSchema] = [
        committees, hearings, hearingCommittees, witnesses, witnessAppearances, witnessDocuments,
        supportingDocuments, hearingTranscripts,
    ]

    /// The managed table named `name`.
    public static func table(named name: String) -> TableSchema? { tablesByName[name] }

    /// Why a dictionary: audit and replay look a table up per mutation, thousands per batch.
    private static let tablesByName = Dictionary(uniqueKeysWithValues: managedTables.map { ($0.name, $0) })
}
