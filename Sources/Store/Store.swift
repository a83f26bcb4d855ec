import Foundation
import GRDB
import GRDBSQLite

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
            // Statement journals and sorts stay in memory: they are small (the database is a few
            // megabytes) and writing them to a temporary file cost an eighth of a replay's time.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
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

/// Thrown when a row does not hold what a mutation expects; that mutation was not applied.
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
        try images(table, table.sql.select, db) { binder in
            for value in key.values(of: table.primaryKey) { binder.bind(value) }
        }.first
    }

    /// Every row of `table` matching `column = value`, in primary-key order.
    public static func rows(in table: TableSchema, where column: String, equals value: Value, _ db: Database)
        throws
        -> [RowImage]
    {
        guard let sql = table.sql.selectWhere[column] else { preconditionFailure("unknown column \(column)") }
        return try images(table, sql, db) { $0.bind(value) }
    }

    /// Every row of `table`, in primary-key order.
    public static func allRows(in table: TableSchema, _ db: Database) throws -> [RowImage] {
        try images(table, table.sql.selectAll, db) { _ in }
    }

    /// The rows `sql` (selecting every column of `table` in declaration order) returns.
    ///
    /// Read through SQLite's C API: the differ runs several lookups per meeting, and GRDB's rows and
    /// cursors (argument arrays, a column-name table per cursor) cost more than SQLite's work. Values
    /// are converted as GRDB converts them (`DatabaseValue(sqliteStatement:index:)`).
    private static func images(
        _ table: TableSchema, _ sql: String, _ db: Database, bind: (inout RowStatement.Binder) -> Void
    ) throws -> [RowImage] {
        var result: [RowImage] = []
        func append(_ handle: OpaquePointer) {
            var columns: [String: Value] = [:]
            columns.reserveCapacity(table.columns.count)
            for (index, column) in table.columns.enumerated() {
                columns[column] = Value(DatabaseValue(sqliteStatement: handle, index: Int32(index)))
            }
            result.append(RowImage(columns))
        }
        try RowStatement.query(sql, db, bind: bind, row: append)
        return result
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

    /// Applies `mutations` in order inside the caller's transaction or savepoint, each checked against
    /// its before-image by the statement that applies it.
    ///
    /// An update or delete is one statement guarded by the whole before-image (`column IS ?` for every
    /// column outside the key): it changes no row when the database does not hold the expected row,
    /// and the conflict is then described from the row found. An insert whose key is taken fails on
    /// the primary key. Checking and applying in one statement halves the work of replay, where this
    /// runs once per journaled mutation.
    ///
    /// - Throws: `ConflictError` for the first mutation whose row does not hold what it expects; a
    ///   `DatabaseError` when SQLite refuses a row (a constraint). The mutations before the failing one
    ///   stay applied: the caller rolls its transaction or savepoint back, as every caller does.
    public static func apply(_ mutations: [Mutation], _ db: Database) throws {
        for mutation in mutations { try apply(mutation, db) }
    }

    /// Applies one mutation, checked against its before-image (see `apply(_:_:)`).
    static func apply(_ mutation: Mutation, _ db: Database) throws {
        guard let table = Schema.table(named: mutation.table) else {
            throw StoreError("mutation names an unmanaged table \"\(mutation.table)\"")
        }
        switch mutation.kind {
        case .insert:
            guard let after = mutation.after else {
                throw StoreError("insert into \(table.name) without an after-image")
            }
            if mutation.before != nil {
                // An insert that expects a row: the general check says what is there.
                try throwIfConflicting(mutation, db)
            }
            do {
                try RowStatement.run(table.sql.insert, db) { binder in
                    for column in table.columns { binder.bind(after[column]) }
                }
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                // A taken key is a conflict (the row exists); any other constraint is SQLite's refusal.
                try throwIfConflicting(mutation, db)
                throw error
            }
        case .update:
            guard let after = mutation.after, let before = mutation.before else {
                throw StoreError("update of \(table.name) without both images")
            }
            // Only the columns that change are set: SQLite rewrites the entries of every index on a
            // column it sets, and setting the primary key makes it look up every child table's rows.
            // The guard still compares every column with the before-image.
            let changed = table.columns.filter { after[$0] != before[$0] }
            let setting = changed.isEmpty ? table.columns : changed
            let sql = changed.isEmpty ? table.sql.guardedUpdate : table.sql.guardedUpdate(setting: changed)
            try RowStatement.run(sql, db) { binder in
                for column in setting { binder.bind(after[column]) }
                for column in table.primaryKey { binder.bind(mutation.key[column]) }
                for column in table.nonKeyColumns { binder.bind(before[column]) }
            }
            if db.changesCount != 1 { try throwConflict(mutation, table: table, db) }
        case .delete:
            guard let before = mutation.before else {
                throw StoreError("delete from \(table.name) without a before-image")
            }
            try RowStatement.run(table.sql.guardedDelete, db) { binder in
                for column in table.primaryKey { binder.bind(mutation.key[column]) }
                for column in table.nonKeyColumns { binder.bind(before[column]) }
            }
            if db.changesCount != 1 { try throwConflict(mutation, table: table, db) }
        }
    }

    /// Throws the conflicts of `mutation` with the database, if any.
    private static func throwIfConflicting(_ mutation: Mutation, _ db: Database) throws {
        let found = try conflicts(of: [mutation], db)
        if !found.isEmpty { throw ConflictError(conflicts: found) }
    }

    /// Throws the conflicts of a guarded statement that changed no row.
    private static func throwConflict(_ mutation: Mutation, table: TableSchema, _ db: Database) throws
        -> Never
    {
        let found = try conflicts(of: [mutation], db)
        // The guard compares with SQL's `IS`, the description with `Value` equality; should they ever
        // disagree, the statement's verdict stands.
        throw ConflictError(
            conflicts: found.isEmpty
                ? [
                    Conflict(
                        table: table.name, key: mutation.key, field: nil,
                        expected: mutation.before?[table.primaryKey[0]], found: nil)
                ] : found)
    }
}

/// A misuse of the store's API, or data it cannot hold.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var description: String
    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}

/// Runs a one-row statement with values bound through SQLite's C API.
///
/// Why not GRDB's `execute(arguments:)`: replay runs one statement per journaled mutation, and building
/// `StatementArguments` (an array of `DatabaseValue` per statement, each converted through a key path)
/// cost more than SQLite's own work. The statement is GRDB's cached one; only its binding and stepping
/// are done here, with the raw handle GRDB exposes for the C API.
enum RowStatement {
    /// Binds the parameters of a statement in order.
    struct Binder {
        let handle: OpaquePointer
        var index: Int32 = 0

        /// Binds the next parameter.
        mutating func bind(_ value: Value) {
            index += 1
            switch value {
            case .null: sqlite3_bind_null(handle, index)
            case .integer(let integer): sqlite3_bind_int64(handle, index, integer)
            case .real(let real): sqlite3_bind_double(handle, index, real)
            case .text(var text):
                text.withUTF8 { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { characters in
                        // An empty buffer may have no address, which SQLite would bind as NULL.
                        if let address = characters.baseAddress {
                            _ = sqlite3_bind_text(handle, index, address, Int32(characters.count), transient)
                        } else {
                            _ = sqlite3_bind_text(handle, index, "", 0, transient)
                        }
                    }
                }
            case .blob(let bytes):
                if bytes.isEmpty {
                    sqlite3_bind_zeroblob(handle, index, 0)
                } else {
                    bytes.withUnsafeBytes { raw in
                        _ = sqlite3_bind_blob(handle, index, raw.baseAddress, Int32(raw.count), transient)
                    }
                }
            }
        }
    }

    /// SQLite's `SQLITE_TRANSIENT`: SQLite copies the bound bytes before the call returns.
    private static let transient = unsafeBitCast(
        OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    /// Prepares (once, through GRDB's statement cache) and runs `sql` with the values `bind` binds.
    ///
    /// - Throws: a `DatabaseError` with SQLite's extended result code and message when the step fails.
    static func run(_ sql: String, _ db: Database, bind: (inout Binder) -> Void) throws {
        try query(sql, db, bind: bind) { _ in
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the statement returned rows", sql: sql)
        }
    }

    /// Prepares (once, through GRDB's statement cache) and runs `sql` with the values `bind` binds,
    /// calling `row` with the statement's handle for each result row (read it with the C API or
    /// `DatabaseValue(sqliteStatement:index:)` before returning).
    ///
    /// - Throws: a `DatabaseError` with SQLite's extended result code and message when a step fails,
    ///   or what `row` throws; the statement is reset either way.
    static func query(
        _ sql: String, _ db: Database, bind: (inout Binder) -> Void, row: (OpaquePointer) throws -> Void
    ) throws {
        let statement = try db.cachedStatement(sql: sql)
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        defer { sqlite3_reset(handle) }
        var binder = Binder(handle: handle)
        bind(&binder)
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else {
                let connection = sqlite3_db_handle(handle)
                let extended = connection.map { sqlite3_extended_errcode($0) } ?? code
                let message = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
                throw DatabaseError(resultCode: ResultCode(rawValue: extended), message: message, sql: sql)
            }
            try row(handle)
        }
    }
}
