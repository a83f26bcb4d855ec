import Foundation
import GRDB

/// The hearings database: schema, row images, conflict-checked application of mutations.
///
/// Opened in WAL mode with foreign keys on and `synchronous = FULL` (a committed batch survives power
/// loss, which recovery relies on). Not `Sendable` itself; the `DatabaseQueue` it owns serialises access.
public final class Store {
    /// The database connection.
    public let queue: DatabaseQueue
    /// The database file.
    public let path: String

    /// Opens (creating if needed) the database at `path` and migrates it to `Migrations.currentVersion`.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // GRDB sets synchronous = NORMAL with WAL; a committed batch must survive power loss.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        self.path = path
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        try Migrations.migrator.migrate(queue)
    }

    /// The schema version of the database (the number of applied migrations).
    public func schemaVersion() throws -> Int {
        try queue.read { db in try Migrations.migrator.appliedIdentifiers(db).count }
    }
}

/// A row that does not hold what a mutation expects: the conflict check's finding.
public struct Conflict: Hashable, Sendable, CustomStringConvertible {
    /// The table.
    public var table: String
    /// The row's primary key.
    public var key: RowImage
    /// The column that differs, or nil when the whole row is missing or unexpectedly present.
    public var field: String?
    /// What the mutation expected (`nil`: no row).
    public var expected: Value?
    /// What the database holds (`nil`: no row).
    public var found: Value?

    /// A conflict on `field` of the row of `table` with primary key `key`.
    public init(table: String, key: RowImage, field: String?, expected: Value?, found: Value?) {
        self.table = table
        self.key = key
        self.field = field
        self.expected = expected
        self.found = found
    }

    public var description: String {
        let keyText = key.columns.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
            separator: ",")
        guard let field else {
            return "\(table)[\(keyText)]: expected \(expected == nil ? "no row" : "a row"), found "
                + (found == nil ? "no row" : "a row")
        }
        return "\(table)[\(keyText)].\(field): expected \(expected?.description ?? "no row"), found "
            + (found?.description ?? "no row")
    }
}

/// Thrown when rows do not hold what mutations expect; nothing was changed.
public struct ConflictError: Error, Sendable, CustomStringConvertible {
    /// Every conflicting field found.
    public var conflicts: [Conflict]

    public var description: String {
        "\(conflicts.count) conflict(s): " + conflicts.prefix(20).map(\.description).joined(separator: "; ")
    }
}

extension Store {
    /// The current row of `table` with primary key `key`, or nil.
    public static func row(in table: TableSchema, key: RowImage, _ db: Database) throws -> RowImage? {
        let condition = table.primaryKey.map { "\($0) = ?" }.joined(separator: " AND ")
        let arguments = StatementArguments(key.values(of: table.primaryKey).map(\.databaseValue))
        let statement = try db.cachedStatement(
            sql: "SELECT \(table.columns.joined(separator: ", ")) FROM \(table.name) WHERE \(condition)")
        guard let row = try Row.fetchOne(statement, arguments: arguments) else { return nil }
        return image(of: row, table: table)
    }

    /// Every row of `table` matching `column = value`, in primary-key order.
    public static func rows(in table: TableSchema, where column: String, equals value: Value, _ db: Database)
        throws
        -> [RowImage]
    {
        precondition(table.columns.contains(column), "unknown column \(column)")
        let statement = try db.cachedStatement(
            sql: "SELECT \(table.columns.joined(separator: ", ")) FROM \(table.name) WHERE \(column) = ? "
                + "ORDER BY \(table.primaryKey.joined(separator: ", "))")
        return try Row.fetchAll(statement, arguments: [value.databaseValue]).map {
            image(of: $0, table: table)
        }
    }

    /// Every row of `table`, in primary-key order.
    public static func allRows(in table: TableSchema, _ db: Database) throws -> [RowImage] {
        try Row.fetchAll(
            db,
            sql: "SELECT \(table.columns.joined(separator: ", ")) FROM \(table.name) "
                + "ORDER BY \(table.primaryKey.joined(separator: ", "))"
        ).map { image(of: $0, table: table) }
    }

    static func image(of row: Row, table: TableSchema) -> RowImage {
        var columns: [String: Value] = [:]
        for (index, column) in table.columns.enumerated() {
            columns[column] = Value(row[index] as DatabaseValue)
        }
        return RowImage(columns)
    }

    /// The next row id for `table`: one past both the largest id present and the largest ever used
    /// (`sqlite_sequence`), so a deleted row's id is never reused and a replay assigns the same ids.
    public static func nextRowID(for table: TableSchema, _ db: Database) throws -> Int64 {
        let largest =
            try Int64.fetchOne(db, sql: "SELECT MAX(\(table.primaryKey[0])) FROM \(table.name)") ?? 0
        let sequence =
            try Int64.fetchOne(
                db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [table.name]) ?? 0
        return max(largest, sequence) + 1
    }

    /// Checks that every mutation's before-image is what the database holds (and that an insert's row is
    /// absent), simulating the mutations in order so a list may touch one row twice.
    ///
    /// - Returns: every conflicting field; empty when the list applies cleanly.
    public static func conflicts(of mutations: [Mutation], _ db: Database) throws -> [Conflict] {
        var simulated: [String: RowImage?] = [:]
        var result: [Conflict] = []
        for mutation in mutations {
            guard let table = Schema.table(named: mutation.table) else {
                throw StoreError("mutation names an unmanaged table \"\(mutation.table)\"")
            }
            let slot =
                mutation.table + "\u{0}"
                + table.primaryKey.map { mutation.key[$0].description }.joined(separator: "\u{0}")
            let current: RowImage? =
                if let known = simulated[slot] { known } else { try row(in: table, key: mutation.key, db) }
            switch (mutation.before, current) {
            case (nil, nil): break
            case (nil, .some(let found)):
                result.append(
                    Conflict(
                        table: table.name, key: mutation.key, field: nil, expected: nil,
                        found: found[table.primaryKey[0]]))
            case (.some(let expected), nil):
                result.append(
                    Conflict(
                        table: table.name, key: mutation.key, field: nil,
                        expected: expected[table.primaryKey[0]], found: nil))
            case (.some(let expected), .some(let found)):
                for column in expected.differingColumns(from: found) {
                    result.append(
                        Conflict(
                            table: table.name, key: mutation.key, field: column, expected: expected[column],
                            found: found[column]))
                }
            }
            simulated[slot] = .some(mutation.after)
        }
        return result
    }

    /// Applies `mutations` in order inside the caller's transaction, after checking every before-image.
    ///
    /// - Throws: `ConflictError` (nothing applied) when a row does not hold what a mutation expects; a
    ///   `DatabaseError` when SQLite refuses a row (a constraint); the caller rolls back.
    public static func apply(_ mutations: [Mutation], _ db: Database) throws {
        let found = try conflicts(of: mutations, db)
        guard found.isEmpty else { throw ConflictError(conflicts: found) }
        for mutation in mutations { try applyUnchecked(mutation, db) }
    }

    /// Applies one mutation without checking its before-image.
    static func applyUnchecked(_ mutation: Mutation, _ db: Database) throws {
        guard let table = Schema.table(named: mutation.table) else {
            throw StoreError("mutation names an unmanaged table \"\(mutation.table)\"")
        }
        let keyCondition = table.primaryKey.map { "\($0) = ?" }.joined(separator: " AND ")
        let keyArguments = mutation.key.values(of: table.primaryKey).map(\.databaseValue)
        switch mutation.kind {
        case .insert:
            guard let after = mutation.after else {
                throw StoreError("insert into \(table.name) without an after-image")
            }
            let placeholders = Array(repeating: "?", count: table.columns.count).joined(separator: ", ")
            let statement = try db.cachedStatement(
                sql:
                    "INSERT INTO \(table.name) (\(table.columns.joined(separator: ", "))) VALUES (\(placeholders))"
            )
            try statement.execute(
                arguments: StatementArguments(after.values(of: table.columns).map(\.databaseValue)))
        case .update:
            guard let after = mutation.after else {
                throw StoreError("update of \(table.name) without an after-image")
            }
            let assignments = table.columns.map { "\($0) = ?" }.joined(separator: ", ")
            let statement = try db.cachedStatement(
                sql: "UPDATE \(table.name) SET \(assignments) WHERE \(keyCondition)")
            try statement.execute(
                arguments: StatementArguments(
                    after.values(of: table.columns).map(\.databaseValue) + keyArguments))
        case .delete:
            let statement = try db.cachedStatement(sql: "DELETE FROM \(table.name) WHERE \(keyCondition)")
            try statement.execute(arguments: StatementArguments(keyArguments))
        }
    }
}

/// A misuse of the store's API, or data it cannot hold.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var description: String
    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
